SET lock_timeout = '2s';
DO $$
BEGIN
  ALTER TABLE orders ADD COLUMN gift boolean NOT NULL DEFAULT false;
  CREATE INDEX orders_gift_idx ON orders (gift);
  UPDATE customers SET name = 'n/a' WHERE name IS NULL;
END
$$;
