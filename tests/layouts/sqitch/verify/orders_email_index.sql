BEGIN;
SELECT 1/count(*) FROM pg_catalog.pg_class WHERE relname = 'orders';
ROLLBACK;
