-- +goose Up
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL,
    note varchar(50)
);
INSERT INTO orders VALUES (1, 10, 'first');

-- +goose Down
DROP TABLE orders;
