CREATE TABLE codes (id bigint PRIMARY KEY, code text);
ALTER TABLE codes ALTER COLUMN code TYPE varchar(8);
