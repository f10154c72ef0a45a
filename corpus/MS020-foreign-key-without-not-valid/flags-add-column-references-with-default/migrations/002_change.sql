SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN assistant_id bigint DEFAULT 1 REFERENCES assistants(id);
