BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN priority boolean NOT NULL DEFAULT false;
UPDATE orders SET priority = true WHERE id = 2;
DELETE FROM customers WHERE id = '3'::bigint AND name IS NULL;
COMMIT;
