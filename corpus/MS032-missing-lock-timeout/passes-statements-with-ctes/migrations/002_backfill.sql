SET lock_timeout = '2s';
WITH latest AS (SELECT customer_id, max(placed_at) AS at FROM orders GROUP BY customer_id)
UPDATE customers AS c SET name = c.name FROM latest AS l WHERE l.customer_id = c.id;
WITH big AS (SELECT id FROM orders WHERE amount > 50)
INSERT INTO customers (email) SELECT 'x' || id || '@example.com' FROM big;
WITH gone AS (SELECT id FROM customers WHERE name IS NULL)
DELETE FROM orders USING gone WHERE orders.customer_id = gone.id;
