SET lock_timeout = '2s';
ALTER TABLE page_views SET LOGGED;
