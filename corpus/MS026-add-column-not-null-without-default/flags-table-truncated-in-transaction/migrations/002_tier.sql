BEGIN;
SET LOCAL lock_timeout = '2s';
TRUNCATE customers;
ALTER TABLE customers ADD COLUMN tier int NOT NULL;
COMMIT;
