BEGIN;
SET LOCAL lock_timeout = '2s';
CREATE TABLE staged_phases AS SELECT * FROM plan_phases;
DELETE FROM plan_phases;
INSERT INTO plan_phases SELECT * FROM staged_phases;
ALTER TABLE plan_phases ADD COLUMN position smallint NOT NULL;
COMMIT;
