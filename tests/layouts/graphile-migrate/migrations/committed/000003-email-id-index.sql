--! Previous: sha1:990aa78058c8d99f870b7b60f5ecf6627e13f7aa
--! Hash: sha1:e618195f66fed8276ea43e597d80c550b5826603
--! Message: email-id-index

--! no-transaction
CREATE INDEX CONCURRENTLY accounts_id_email_idx ON accounts (id, email);
