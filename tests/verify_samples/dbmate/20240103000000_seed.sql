-- migrate:up
INSERT INTO t (id, note) VALUES (1, 'first');
