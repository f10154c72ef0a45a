-- +goose up
SET lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);

-- +goose down
-- Narrowing back rewrites and may fail: the down part is never analysed forward.
ALTER TABLE orders ALTER COLUMN note TYPE varchar(50) USING substr(note, 1, 50);
