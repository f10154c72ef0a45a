CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email varchar(200) NOT NULL
);

CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    note varchar(100),
    placed_at timestamptz NOT NULL DEFAULT now()
);

-- A new table is empty: indexing it in the same migration is safe.
CREATE INDEX orders_placed_at_idx ON orders (placed_at);
