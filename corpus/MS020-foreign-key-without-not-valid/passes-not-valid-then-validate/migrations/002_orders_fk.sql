SET lock_timeout = '2s';

BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
COMMIT;

BEGIN;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
COMMIT;
