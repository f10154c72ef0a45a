SET lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;
