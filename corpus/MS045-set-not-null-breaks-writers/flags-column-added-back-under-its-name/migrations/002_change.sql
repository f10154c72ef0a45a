SET lock_timeout = '2s';
ALTER TABLE customers RENAME COLUMN email TO login;
ALTER TABLE customers ADD COLUMN email varchar(100);
UPDATE customers SET email = lower(login);
ALTER TABLE customers ALTER COLUMN email SET NOT NULL;
