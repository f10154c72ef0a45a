SELECT count(*) FROM orders;
SELECT id FROM orders WHERE id = 1 FOR UPDATE;
