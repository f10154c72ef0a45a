CREATE TABLE order_lines (
    id bigserial PRIMARY KEY,
    quantity integer NOT NULL,
    unit_price numeric(10,2) NOT NULL,
    discount numeric(10,2) NOT NULL DEFAULT 0
);

INSERT INTO order_lines (quantity, unit_price, discount) VALUES (1, 9.99, 0), (3, 4.50, 1.00);
