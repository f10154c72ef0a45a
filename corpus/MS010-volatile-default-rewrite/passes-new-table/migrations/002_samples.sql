CREATE TABLE samples (id bigint PRIMARY KEY);
INSERT INTO samples VALUES (1), (2);
ALTER TABLE samples ADD COLUMN weight float8 DEFAULT random();
