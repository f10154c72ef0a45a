WITH updated AS (UPDATE entry SET note = 'x' WHERE note IS NULL RETURNING id)
SELECT count(*) FROM updated;
