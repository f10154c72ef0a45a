SET lock_timeout = '2s';
ALTER TABLE customers DROP CONSTRAINT customers_email_key;
