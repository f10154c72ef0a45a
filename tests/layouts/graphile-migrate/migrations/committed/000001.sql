--! Previous: -
--! Hash: sha1:ceb570ed73c73e4bca8075d0dff38d0982f6124e

CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    email varchar(100) NOT NULL
);
