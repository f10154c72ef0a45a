BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN channel text;
ANALYZE customers;
ANALYZE orders;
COMMIT;
