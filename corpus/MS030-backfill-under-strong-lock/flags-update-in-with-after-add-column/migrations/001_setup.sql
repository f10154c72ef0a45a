CREATE TABLE entry (id bigint PRIMARY KEY, ext_id uuid);
INSERT INTO entry (id, ext_id) SELECT g, NULL FROM generate_series(1, 50) g;
