BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE job ADD COLUMN finished_at timestamptz;
WITH moved AS (DELETE FROM job WHERE state = 'done' RETURNING id, state)
INSERT INTO job_archive (job_id, state) SELECT id, state FROM moved;
COMMIT;
