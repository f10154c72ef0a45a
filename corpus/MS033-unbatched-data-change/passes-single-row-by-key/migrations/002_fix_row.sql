UPDATE orders SET status = 'paid' WHERE id = 2;
UPDATE customers SET name = 'Cy' WHERE id = 3 AND name IS NULL;
DELETE FROM customers WHERE id = 3;
