BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN archived boolean;
CREATE TABLE order_snapshot (id bigint PRIMARY KEY, amount numeric(10,2));
INSERT INTO order_snapshot SELECT id, amount FROM orders;
COMMIT;
