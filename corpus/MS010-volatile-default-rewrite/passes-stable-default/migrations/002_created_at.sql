SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN created_at timestamptz DEFAULT now();
