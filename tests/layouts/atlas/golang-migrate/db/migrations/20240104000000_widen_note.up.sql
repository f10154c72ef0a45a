SET lock_timeout = '2s';
-- atlas:nolint BC102
ALTER TABLE "orders" ALTER COLUMN "note" TYPE character varying(120);
