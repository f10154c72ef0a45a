CREATE TABLE coupons (code text PRIMARY KEY, percent integer NOT NULL);
INSERT INTO coupons VALUES ('TEN', 10);
ALTER TABLE coupons ADD CONSTRAINT coupons_percent_range CHECK (percent BETWEEN 1 AND 100);
