-- Deploy shop:orders_status_index to pg
-- requires: orders

BEGIN;

SET LOCAL lock_timeout = '2s';
CREATE INDEX orders_status_idx ON orders (status);

COMMIT;
