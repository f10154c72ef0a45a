--! Previous: sha1:de68905d15675972f4626028da969e37ce68c1da
--! Hash: sha1:212165569114e66e16c4108087ce1c54b826591c
--! Message: email-id-index
--! no-transaction

CREATE INDEX CONCURRENTLY accounts_id_email_idx ON accounts (id, email);
