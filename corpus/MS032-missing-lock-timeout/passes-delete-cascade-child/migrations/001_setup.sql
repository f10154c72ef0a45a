CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    amount numeric(10,2) NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'new'
);

CREATE TABLE order_items (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL,
    sku text NOT NULL,
    qty integer NOT NULL DEFAULT 1,
    CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE
);

INSERT INTO orders (amount, status) VALUES (10.50, 'new'), (99.99, 'paid'), (5.00, 'shipped');
INSERT INTO order_items (order_id, sku, qty) VALUES (1, 'A-100', 1), (1, 'B-200', 2), (2, 'A-100', 5);
