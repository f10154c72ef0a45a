CREATE TABLE scratch (id bigint, v text);
INSERT INTO scratch VALUES (1, 'x');
TRUNCATE scratch;
