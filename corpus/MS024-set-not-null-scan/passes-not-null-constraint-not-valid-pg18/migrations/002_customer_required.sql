SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_nn NOT NULL customer_id NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_nn;
