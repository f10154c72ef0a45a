SET lock_timeout = '2s';
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_not_null;
