SET lock_timeout = '2s';
ALTER TABLE orders SET TABLESPACE archive_space;
