WITH batch AS (SELECT id FROM entry WHERE note IS NULL ORDER BY id LIMIT 1000),
     updated AS (UPDATE entry e SET note = 'x' FROM batch b WHERE e.id = b.id RETURNING e.id)
SELECT count(*) FROM updated;
