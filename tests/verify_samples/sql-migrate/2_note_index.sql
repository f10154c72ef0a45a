-- +migrate Up notransaction
CREATE INDEX CONCURRENTLY t_note_idx ON t (note);

-- +migrate Down
DROP INDEX t_note_idx;
DROP TABLE t;
