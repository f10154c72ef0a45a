CREATE TABLE usage_resets (id bigint PRIMARY KEY, anchor timestamptz);
INSERT INTO usage_resets (id, anchor) SELECT g, now() FROM generate_series(1, 40) g;
