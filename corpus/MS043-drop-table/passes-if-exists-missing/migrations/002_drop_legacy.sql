DROP TABLE IF EXISTS legacy_orders;
