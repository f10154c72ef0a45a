CREATE TABLE customers (
    id bigserial PRIMARY KEY,
    email varchar(100) NOT NULL UNIQUE,
    name text
);

CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL,
    amount numeric(10,2) NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid', 'shipped')),
    note varchar(50),
    quantity integer NOT NULL DEFAULT 1,
    placed_at timestamp NOT NULL DEFAULT now()
);
CREATE INDEX orders_placed_at_idx ON orders (placed_at);
