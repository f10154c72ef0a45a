UPDATE orders SET status = 'legacy' WHERE note IS NULL;
UPDATE orders SET status = 'current' WHERE note IS NOT NULL;
