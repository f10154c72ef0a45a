CREATE TABLE order_archive (id bigint PRIMARY KEY, amount numeric(10,2));
WITH paid AS (SELECT id, amount FROM orders WHERE status = 'paid')
INSERT INTO order_archive (id, amount) SELECT id, amount FROM paid;
