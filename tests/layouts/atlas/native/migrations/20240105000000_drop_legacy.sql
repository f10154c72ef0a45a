SET lock_timeout = '2s';
-- Modify "users" table
-- atlas:nolint DS103
ALTER TABLE "users" DROP COLUMN "legacy";
