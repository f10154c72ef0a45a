CREATE TABLE tmp_ids (id bigint);
INSERT INTO tmp_ids SELECT id FROM orders;
DROP TABLE tmp_ids;
