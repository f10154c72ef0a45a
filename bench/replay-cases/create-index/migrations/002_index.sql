CREATE INDEX orders_customer_status_idx ON orders (customer_id, status);
