WITH batch AS (
    SELECT id FROM orders WHERE note IS NULL ORDER BY id LIMIT 1000
)
UPDATE orders AS o SET note = '' FROM batch AS b WHERE o.id = b.id;
