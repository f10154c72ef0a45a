SET lock_timeout = '2s';
ALTER INDEX orders_placed_at_idx SET TABLESPACE archive_space;
