-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY t_note_idx ON t (note);

-- +goose Down
DROP INDEX CONCURRENTLY t_note_idx;
