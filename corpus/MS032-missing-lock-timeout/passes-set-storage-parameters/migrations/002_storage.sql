ALTER TABLE orders SET (fillfactor = 70);
ALTER TABLE orders SET (autovacuum_vacuum_scale_factor = 0.05);
ALTER TABLE orders RESET (fillfactor);
