-- +goose Up
ALTER TABLE t ALTER COLUMN note TYPE varchar(200);

-- +goose Down
ALTER TABLE t ALTER COLUMN note TYPE varchar(100);
