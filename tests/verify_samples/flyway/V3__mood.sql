CREATE TYPE mood AS ENUM ('ok', 'meh');
ALTER TABLE t ADD COLUMN m mood;
