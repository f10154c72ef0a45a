SET lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN customer_id TYPE integer;
