--liquibase formatted sql

--changeset ann:orders-1
--comment: the orders table
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    status text NOT NULL,
    email text,
    note varchar(100)
);
--rollback DROP TABLE orders;

--changeset ann:orders-mysql dbms:mysql
ALTER TABLE orders ENGINE = InnoDB;
--rollback SELECT 1;
