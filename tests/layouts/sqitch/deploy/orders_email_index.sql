-- Deploy shop:orders_email_index to pg
-- No BEGIN: psql autocommits, which CREATE INDEX CONCURRENTLY needs.

SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_email_idx ON orders (email);
