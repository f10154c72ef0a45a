SET lock_timeout = '2s';
BEGIN;
ALTER TABLE orders ADD COLUMN gift boolean DEFAULT false;
CREATE OR REPLACE VIEW recent_orders AS SELECT id, placed_at, gift FROM orders;
ALTER SEQUENCE orders_id_seq AS bigint;
COMMIT;
