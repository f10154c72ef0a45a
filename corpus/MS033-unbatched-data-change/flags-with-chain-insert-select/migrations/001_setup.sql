CREATE TABLE step_run (id bigint PRIMARY KEY, action text);
CREATE TABLE queue (id bigint);
INSERT INTO step_run (id, action) SELECT g, 'a' || (g % 5) FROM generate_series(1, 30) g;
