SELECT id, customer_id, amount INTO order_copy FROM orders;
