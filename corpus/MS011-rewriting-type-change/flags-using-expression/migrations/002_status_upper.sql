SET lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN status TYPE text USING upper(status);
