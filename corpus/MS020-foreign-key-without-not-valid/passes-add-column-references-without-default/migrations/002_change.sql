SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN assistant_id bigint REFERENCES assistants(id) ON DELETE CASCADE;
