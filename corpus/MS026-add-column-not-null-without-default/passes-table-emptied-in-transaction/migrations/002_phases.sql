BEGIN;
SET LOCAL lock_timeout = '2s';
DELETE FROM orders;
ALTER TABLE orders ADD COLUMN position smallint NOT NULL;
CREATE UNIQUE INDEX orders_customer_position ON orders (customer_id, position);
TRUNCATE customers;
ALTER TABLE customers ALTER COLUMN email TYPE text, ADD COLUMN tier int NOT NULL;
COMMIT;
