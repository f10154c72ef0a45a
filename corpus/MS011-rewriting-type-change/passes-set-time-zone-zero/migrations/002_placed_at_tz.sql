SET lock_timeout = '2s';
SET TIME ZONE 0;
ALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;
