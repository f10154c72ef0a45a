SET lock_timeout = '2s';
ALTER TABLE events ADD COLUMN received_at timestamptz DEFAULT clock_timestamp();
