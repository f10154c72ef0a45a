SET lock_timeout = '2s';
-- migrasafe: ignore MS042 -- the application stopped reading note two releases ago
ALTER TABLE orders DROP COLUMN note;
