CREATE TABLE products (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    features jsonb
);

INSERT INTO products (name, features) VALUES ('lamp', '{"dimmable": true}'), ('desk', NULL);
