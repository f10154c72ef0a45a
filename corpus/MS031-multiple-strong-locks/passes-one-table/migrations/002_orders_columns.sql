BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN coupon text;
ALTER TABLE orders ADD COLUMN discount numeric(10,2);
COMMIT;
