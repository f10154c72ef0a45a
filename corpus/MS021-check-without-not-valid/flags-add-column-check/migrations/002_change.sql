SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN provider text, ADD COLUMN api_key text CHECK (char_length(api_key) <= 1000);
