-- Alone in its file: first in the CLI's batch, so outside any transaction block
CREATE INDEX CONCURRENTLY accounts_id_email_idx ON accounts (id, email);
