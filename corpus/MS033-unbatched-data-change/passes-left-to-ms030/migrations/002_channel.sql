BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN channel text;
UPDATE orders SET channel = 'web';
COMMIT;
