SET lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN status TYPE varchar(20);
