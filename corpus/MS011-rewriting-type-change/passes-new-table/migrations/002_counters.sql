CREATE TABLE counters (id bigint PRIMARY KEY, hits integer NOT NULL DEFAULT 0);
INSERT INTO counters VALUES (1, 5), (2, 7);
ALTER TABLE counters ALTER COLUMN hits TYPE bigint;
