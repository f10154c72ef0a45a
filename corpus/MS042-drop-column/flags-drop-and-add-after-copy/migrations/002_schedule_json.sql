SET lock_timeout = '2s';
BEGIN;
ALTER TABLE queries ADD COLUMN old_schedule varchar(10);
UPDATE queries SET old_schedule = schedule;
ALTER TABLE queries DROP COLUMN schedule;
ALTER TABLE queries ADD COLUMN schedule text NOT NULL DEFAULT '{}';
UPDATE queries SET schedule = json_build_object('interval', old_schedule::int)::text WHERE old_schedule IS NOT NULL;
ALTER TABLE queries DROP COLUMN old_schedule;
COMMIT;
