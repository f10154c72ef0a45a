CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    status order_status NOT NULL DEFAULT 'new',
    refunded_at timestamptz
);
INSERT INTO orders (status, refunded_at) VALUES ('new', NULL), ('paid', now()), ('shipped', NULL);
