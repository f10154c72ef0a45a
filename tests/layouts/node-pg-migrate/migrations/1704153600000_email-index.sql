-- Up Migration
CREATE INDEX accounts_email_idx ON accounts (email);

-- Down Migration
DROP INDEX accounts_email_idx;
