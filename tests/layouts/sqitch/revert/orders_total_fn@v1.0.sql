BEGIN;
DROP FUNCTION order_total(bigint);
COMMIT;
