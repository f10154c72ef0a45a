ALTER TABLE orders CLUSTER ON orders_placed_at_idx;
