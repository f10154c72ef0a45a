SET lock_timeout = '2s';
ALTER TABLE IF EXISTS customers RENAME TO clients;
