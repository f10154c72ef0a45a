SET lock_timeout = '2s';
TRUNCATE TABLE audit_log RESTART IDENTITY;
