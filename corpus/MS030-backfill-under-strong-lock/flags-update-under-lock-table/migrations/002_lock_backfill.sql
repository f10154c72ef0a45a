BEGIN;
SET LOCAL lock_timeout = '2s';
LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;
UPDATE orders SET note = 'checked';
COMMIT;
