-- Alone in its file: Prisma sends it as a one-statement script, outside any transaction block
CREATE INDEX CONCURRENTLY accounts_id_email_idx ON accounts (id, email);
