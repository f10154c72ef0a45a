-- Deploy shop:orders_total_fn to pg (first version)

BEGIN;

CREATE FUNCTION order_total(order_id bigint) RETURNS numeric
    LANGUAGE sql STABLE AS $$ SELECT total FROM orders WHERE id = order_id $$;

COMMIT;
