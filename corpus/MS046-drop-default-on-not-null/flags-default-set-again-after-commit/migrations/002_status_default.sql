BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;
COMMIT;
SET lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'created';
