CREATE MATERIALIZED VIEW daily_amounts AS
    SELECT placed_at::date AS day, sum(amount) AS total FROM orders GROUP BY 1
    WITH NO DATA;
REFRESH MATERIALIZED VIEW daily_amounts;
