BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN schedule text;
SELECT id, status FROM orders;
SELECT setval('orders_id_seq', (SELECT max(id) FROM orders));
COMMIT;
