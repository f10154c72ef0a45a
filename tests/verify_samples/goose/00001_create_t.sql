-- +goose Up
CREATE TABLE t (id int PRIMARY KEY, note varchar(50));

-- +goose Down
DROP TABLE t;
