-- +migrate Up
SET lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);

-- +migrate Down
ALTER TABLE orders ALTER COLUMN note TYPE varchar(50) USING substr(note, 1, 50);
