SET lock_timeout = '2s';
CREATE TABLE refunds (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id),
    amount numeric(10,2) NOT NULL
);
