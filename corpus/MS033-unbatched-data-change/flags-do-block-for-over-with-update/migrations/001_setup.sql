CREATE TABLE entry (id bigint PRIMARY KEY, note text);
INSERT INTO entry (id) SELECT generate_series(1, 50);
