SET lock_timeout = '2s';
DELETE FROM users WHERE id = 3;
