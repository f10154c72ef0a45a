BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN channel text;
UPDATE orders SET channel = 'web' WHERE status = 'new';
DELETE FROM customers WHERE id = 3 OR name IS NULL;
COMMIT;
