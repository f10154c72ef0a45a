--! Previous: sha1:ee09785e8a632e1c7e867295eab03449e6722d16
--! Hash: sha1:990aa78058c8d99f870b7b60f5ecf6627e13f7aa
--! Message: email-index

CREATE INDEX accounts_email_idx ON accounts (email);
