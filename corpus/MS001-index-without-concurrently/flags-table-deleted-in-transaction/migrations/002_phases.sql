BEGIN;
SET LOCAL lock_timeout = '2s';
DELETE FROM plan_phases;
CREATE UNIQUE INDEX plan_phases_plan_name ON plan_phases (plan_id, name);
COMMIT;
