SET lock_timeout = '2s';
CREATE INDEX wal_id_idx ON wal (id);
