SET lock_timeout = '2s';
CREATE INDEX IF NOT EXISTS orders_placed_at_idx ON orders (placed_at);
