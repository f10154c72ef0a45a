CREATE TABLE tickets (subject text NOT NULL);
ALTER TABLE tickets ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
INSERT INTO tickets (subject) VALUES ('printer'), ('vpn');
