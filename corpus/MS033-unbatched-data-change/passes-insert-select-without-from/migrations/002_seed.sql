INSERT INTO customers (id, email, name) SELECT 10, 'dee@example.com', 'Dee'
WHERE NOT EXISTS (SELECT 1 FROM customers WHERE email = 'dee@example.com');
INSERT INTO customers (id, email) SELECT 11, email FROM customers WHERE id = 1;
