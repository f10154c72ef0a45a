SET lock_timeout = '2s';
DROP VIEW recent_orders CASCADE;
CREATE OR REPLACE VIEW recent_ids AS SELECT id FROM orders;
