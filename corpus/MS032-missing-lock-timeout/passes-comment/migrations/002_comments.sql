COMMENT ON TABLE orders IS 'one row per checkout';
COMMENT ON COLUMN orders.note IS 'free text from the buyer';
