BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE entry ADD COLUMN note text;
WITH batch AS (SELECT id FROM entry LIMIT 1000),
     updated AS (UPDATE entry e SET note = 'x' FROM batch b WHERE e.id = b.id RETURNING e.id)
SELECT count(*) FROM updated;
COMMIT;
