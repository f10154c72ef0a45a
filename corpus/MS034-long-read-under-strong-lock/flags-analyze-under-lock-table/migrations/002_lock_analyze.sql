BEGIN;
SET LOCAL lock_timeout = '2s';
LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;
ANALYZE orders;
SELECT id, status FROM orders;
COMMIT;
