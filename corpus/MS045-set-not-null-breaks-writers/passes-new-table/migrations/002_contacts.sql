CREATE TABLE contacts (id bigint PRIMARY KEY, phone text);
ALTER TABLE contacts ALTER COLUMN phone SET NOT NULL;
