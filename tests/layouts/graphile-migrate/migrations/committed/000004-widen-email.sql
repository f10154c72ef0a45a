--! Previous: sha1:212165569114e66e16c4108087ce1c54b826591c
--! Hash: sha1:0248878aaf51a68a7fc22aad164ce738ab71523c
--! Message: widen-email

ALTER TABLE accounts ALTER COLUMN email TYPE varchar(200);
