CREATE UNLOGGED TABLE staging_rows (id bigint, raw text);
INSERT INTO staging_rows VALUES (1, 'a');
ALTER TABLE staging_rows SET LOGGED;
