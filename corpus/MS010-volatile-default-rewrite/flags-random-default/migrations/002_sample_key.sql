SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN sample_key float8 DEFAULT random();
