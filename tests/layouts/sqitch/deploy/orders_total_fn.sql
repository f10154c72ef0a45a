-- Deploy shop:orders_total_fn to pg (reworked: with tax)

BEGIN;

CREATE OR REPLACE FUNCTION order_total(order_id bigint) RETURNS numeric
    LANGUAGE sql STABLE AS $$ SELECT total * 1.2 FROM orders WHERE id = order_id $$;

COMMIT;
