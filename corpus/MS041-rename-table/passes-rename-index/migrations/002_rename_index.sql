SET lock_timeout = '2s';
ALTER INDEX orders_placed_at_idx RENAME TO orders_placed_idx;
