-- Up Migration
ALTER TABLE accounts ALTER COLUMN email TYPE varchar(200);

-- Down Migration
ALTER TABLE accounts ALTER COLUMN email TYPE varchar(100);
