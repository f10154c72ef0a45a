--! Previous: sha1:e618195f66fed8276ea43e597d80c550b5826603
--! Hash: sha1:9b056c87e821fd142b427c229cbe0e7cc15d2510
--! Message: widen-email

ALTER TABLE accounts ALTER COLUMN email TYPE varchar(200);
