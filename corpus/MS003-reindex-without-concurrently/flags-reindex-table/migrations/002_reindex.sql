SET lock_timeout = '2s';
REINDEX TABLE orders;
