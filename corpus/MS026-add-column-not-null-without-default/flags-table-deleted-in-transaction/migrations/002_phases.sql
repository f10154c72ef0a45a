BEGIN;
SET LOCAL lock_timeout = '2s';
DELETE FROM plan_phases;
ALTER TABLE plan_phases ADD COLUMN position smallint NOT NULL;
COMMIT;
