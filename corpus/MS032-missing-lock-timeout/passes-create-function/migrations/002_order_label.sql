CREATE FUNCTION order_label(o orders) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN o.status || ' #' || o.id;
END;
$$;
