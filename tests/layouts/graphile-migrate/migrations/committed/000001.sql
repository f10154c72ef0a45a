--! Previous: -
--! Hash: sha1:ee09785e8a632e1c7e867295eab03449e6722d16

CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    email varchar(100) NOT NULL
);
