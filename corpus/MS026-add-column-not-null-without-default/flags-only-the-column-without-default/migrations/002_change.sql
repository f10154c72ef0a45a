SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN token text, ADD COLUMN admin boolean NOT NULL DEFAULT false, ADD COLUMN rank integer NOT NULL;
