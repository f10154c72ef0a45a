-- atlas:nolint DS103
ALTER TABLE "orders" DROP COLUMN "note";
