SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN note text, ADD COLUMN lease_expires_at timestamptz DEFAULT NOW();
