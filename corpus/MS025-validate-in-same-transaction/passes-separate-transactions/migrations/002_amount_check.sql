SET lock_timeout = '2s';

BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;
COMMIT;

BEGIN;
ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;
COMMIT;
