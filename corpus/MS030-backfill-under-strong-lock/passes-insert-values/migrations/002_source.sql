BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN source text;
INSERT INTO orders (customer_id, amount, source) VALUES (3, 1.00, 'import');
COMMIT;
