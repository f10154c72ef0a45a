BEGIN;
SET LOCAL lock_timeout = '2s';
TRUNCATE orders;
CREATE UNIQUE INDEX orders_customer_placed_at ON orders (customer_id, placed_at);
ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;
COMMIT;
