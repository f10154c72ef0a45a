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
    CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id)
);

INSERT INTO customers (email, name) VALUES
    ('ann@example.com', 'Ann'),
    ('bob@example.com', 'Bob'),
    ('cy@example.com', NULL);

INSERT INTO orders (customer_id, amount, status) VALUES
    (1, 10.50, 'new'),
    (2, 99.99, 'paid'),
    (1, 5.00, 'shipped');
