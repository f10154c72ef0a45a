-- +migrate Up
CREATE TABLE t (id int PRIMARY KEY, note text);

-- +migrate Down
DROP TABLE t;
