CREATE INDEX CONCURRENTLY orders_status ON orders (status);
