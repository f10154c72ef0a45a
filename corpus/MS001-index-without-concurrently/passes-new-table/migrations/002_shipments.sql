CREATE TABLE shipments (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL,
    carrier text
);
CREATE INDEX shipments_order_id_idx ON shipments (order_id);
INSERT INTO shipments (order_id, carrier) VALUES (1, 'post'), (2, 'courier');
