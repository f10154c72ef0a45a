-- Deploy shop:orders to pg

BEGIN;

CREATE TABLE orders (
    id bigint PRIMARY KEY,
    status text NOT NULL,
    email text,
    total numeric NOT NULL,
    note varchar(100)
);

COMMIT;
