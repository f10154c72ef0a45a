UPDATE orders SET status = 'legacy' WHERE id >= 1 AND id < 1001 AND note IS NULL;
UPDATE orders SET status = 'legacy' WHERE id BETWEEN 1001 AND 2000;
DELETE FROM orders WHERE id IN (SELECT id FROM orders WHERE note = 'gift' ORDER BY id LIMIT 1000);
UPDATE customers SET name = 'n/a' WHERE id IN (1, 2, 3);
