SET lock_timeout = '2s';
SET timezone = 'UTC';
ALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;
