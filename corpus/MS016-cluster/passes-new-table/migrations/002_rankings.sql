CREATE TABLE rankings (id bigint PRIMARY KEY, score integer);
INSERT INTO rankings VALUES (2, 10), (1, 20);
CLUSTER rankings USING rankings_pkey;
