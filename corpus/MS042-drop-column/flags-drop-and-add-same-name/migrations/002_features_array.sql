SET lock_timeout = '2s';
ALTER TABLE products DROP COLUMN features, ADD COLUMN features text[];
