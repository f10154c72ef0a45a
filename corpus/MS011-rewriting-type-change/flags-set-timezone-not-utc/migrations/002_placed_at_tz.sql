SET lock_timeout = '2s';
SET TIME ZONE 'Etc/UTC';
SET TIME ZONE 'Europe/London';
ALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;
