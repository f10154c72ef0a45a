SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN legacy_no serial;
