SET lock_timeout = '2s';
ALTER TABLE events SET UNLOGGED;
