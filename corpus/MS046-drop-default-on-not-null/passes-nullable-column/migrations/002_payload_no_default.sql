SET lock_timeout = '2s';
ALTER TABLE events ALTER COLUMN payload DROP DEFAULT;
