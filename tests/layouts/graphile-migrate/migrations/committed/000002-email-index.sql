--! Previous: sha1:ceb570ed73c73e4bca8075d0dff38d0982f6124e
--! Hash: sha1:de68905d15675972f4626028da969e37ce68c1da
--! Message: email-index

CREATE INDEX accounts_email_idx ON accounts (email);
