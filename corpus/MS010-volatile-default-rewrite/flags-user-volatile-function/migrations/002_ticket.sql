SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN ticket integer DEFAULT next_ticket();
