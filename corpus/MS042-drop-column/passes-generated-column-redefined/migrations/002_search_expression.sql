SET lock_timeout = '2s';
ALTER TABLE logs DROP COLUMN search;
ALTER TABLE logs ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED;
