BEGIN;
ALTER TYPE order_status ADD VALUE 'refunded';
COMMIT;
BEGIN;
UPDATE orders SET status = 'refunded' WHERE id = 2;
COMMIT;
