CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    email varchar(100) NOT NULL,
    name text,
    nickname citext
);
INSERT INTO accounts (email, name, nickname) VALUES ('ann@example.com', 'Ann', 'annie'), ('bob@example.com', NULL, 'Bob');
