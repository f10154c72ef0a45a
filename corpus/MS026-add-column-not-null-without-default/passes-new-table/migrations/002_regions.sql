CREATE TABLE regions (code text PRIMARY KEY);
ALTER TABLE regions ADD COLUMN name text NOT NULL;
INSERT INTO regions VALUES ('eu', 'Europe');
