CREATE TABLE new_orders AS SELECT * FROM orders WHERE status = 'new';
CREATE TABLE order_totals AS SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id;
