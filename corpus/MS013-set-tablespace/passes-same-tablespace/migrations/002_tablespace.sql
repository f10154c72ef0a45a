SET lock_timeout = '2s';
ALTER TABLE orders SET TABLESPACE pg_default;
