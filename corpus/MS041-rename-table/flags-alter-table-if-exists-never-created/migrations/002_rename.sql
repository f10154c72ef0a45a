SET lock_timeout = '2s';
ALTER TABLE IF EXISTS legacy_tasks DROP COLUMN payload;
ALTER TABLE IF EXISTS legacy_tasks RENAME TO subflow_tasks;
