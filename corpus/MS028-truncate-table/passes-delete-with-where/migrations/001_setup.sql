CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text NOT NULL
);
INSERT INTO users VALUES (1, 'ann@example.com'), (2, 'bob@example.com'), (3, 'cy@example.com');
