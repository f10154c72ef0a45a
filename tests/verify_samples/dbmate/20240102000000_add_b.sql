-- migrate:up
ALTER TABLE t ADD COLUMN b int;
CREATE INDEX t_b_idx ON t (b);

-- migrate:down
DROP INDEX t_b_idx;
ALTER TABLE t DROP COLUMN c;
