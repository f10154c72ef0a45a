SET lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN quantity TYPE integer USING quantity::integer;
