SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN coupon text;
ALTER TABLE customers ADD COLUMN tier text;
