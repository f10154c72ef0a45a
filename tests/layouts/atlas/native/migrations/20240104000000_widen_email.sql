SET lock_timeout = '2s';
-- Modify "users" table
ALTER TABLE "users" ALTER COLUMN "email" TYPE character varying(200);
