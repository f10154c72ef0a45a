CREATE TABLE order_archive (id bigint PRIMARY KEY, amount numeric(10,2));
INSERT INTO order_archive (id, amount) SELECT id, amount FROM orders;
