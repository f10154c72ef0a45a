DROP INDEX IF EXISTS orders_placed_at_idx;
