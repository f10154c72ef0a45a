BEGIN;
SET LOCAL lock_timeout = '2s';
SET LOCAL search_path = public;
ALTER TABLE orders ADD COLUMN channel text;
UPDATE pg_index SET indisclustered = false WHERE indrelid = 'orders'::regclass AND indisclustered;
SELECT column_name FROM information_schema.columns WHERE table_name = 'orders';
COMMIT;
