SET lock_timeout = '2s';
ALTER TABLE tags DROP CONSTRAINT tags_pkey;
