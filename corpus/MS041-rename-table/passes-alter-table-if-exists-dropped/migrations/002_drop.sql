SET lock_timeout = '2s';
-- migrasafe: ignore MS043 -- customers was replaced by accounts two releases ago
DROP TABLE customers CASCADE;
