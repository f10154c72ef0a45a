CREATE STATISTICS orders_customer_status (dependencies) ON customer_id, status FROM orders;
