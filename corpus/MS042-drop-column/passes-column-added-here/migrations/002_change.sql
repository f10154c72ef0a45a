SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN scratch text;
UPDATE orders SET scratch = note WHERE id = 1;
ALTER TABLE orders DROP COLUMN scratch;
