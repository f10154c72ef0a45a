SET lock_timeout = '2s';
BEGIN;
ALTER TABLE orders ADD COLUMN gift boolean DEFAULT false;
ALTER TABLE customers ADD COLUMN vip boolean DEFAULT false;
ALTER TABLE coupons ADD COLUMN code text;
COMMIT;
