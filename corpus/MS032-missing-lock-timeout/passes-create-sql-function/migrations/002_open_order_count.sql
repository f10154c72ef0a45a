CREATE FUNCTION open_order_count() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM orders WHERE status <> 'shipped'
$$;
