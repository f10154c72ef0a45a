SET lock_timeout = '2s';
ALTER TABLE customers ADD COLUMN phone varchar(15) NULL UNIQUE;
