-- migrate:up
CREATE TABLE t (id int PRIMARY KEY, note text);

-- migrate:down
DROP TABLE t;
