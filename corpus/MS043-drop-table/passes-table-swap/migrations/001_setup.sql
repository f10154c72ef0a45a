CREATE TABLE customers (
    id bigserial PRIMARY KEY,
    email varchar(100) NOT NULL,
    name text
);

CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer_id bigint,
    amount numeric(10,2) NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'new',
    note varchar(50),
    quantity integer NOT NULL DEFAULT 1,
    placed_at timestamp NOT NULL DEFAULT now()
);
CREATE INDEX orders_placed_at_idx ON orders (placed_at);

INSERT INTO customers (email, name) VALUES
    ('ann@example.com', 'Ann'),
    ('bob@example.com', 'Bob'),
    ('cy@example.com', NULL);

INSERT INTO orders (customer_id, amount, status, note, quantity, placed_at) VALUES
    (1, 10.50, 'new', 'first order', 1, '2024-03-01 10:00'),
    (2, 99.99, 'paid', NULL, 3, '2024-03-02 11:30'),
    (1, 5.00, 'shipped', 'gift', 2, '2024-03-03 09:15');
