SET lock_timeout = '2s';
ALTER TABLE accounts ALTER COLUMN email TYPE citext;
ALTER TABLE accounts ALTER COLUMN name TYPE citext;
ALTER TABLE accounts ALTER COLUMN nickname TYPE text;
