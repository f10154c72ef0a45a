SET lock_timeout = '2s';
TRUNCATE TABLE events;
