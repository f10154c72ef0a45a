BEGIN;
ALTER TABLE orders ADD COLUMN total_cents bigint;
UPDATE orders SET total_cents = (amount * 100)::bigint;
COMMIT;
