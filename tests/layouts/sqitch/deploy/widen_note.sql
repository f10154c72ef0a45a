-- Deploy shop:widen_note to pg

BEGIN;

SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);

COMMIT;
