-- +migrate Up notransaction
CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);

-- +migrate Down
DROP INDEX CONCURRENTLY orders_note_idx;
