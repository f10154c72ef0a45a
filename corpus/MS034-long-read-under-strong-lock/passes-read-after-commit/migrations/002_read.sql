BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN schedule text;
COMMIT;
ANALYZE orders;
SELECT id, status FROM orders;
