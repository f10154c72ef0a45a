CREATE TABLE quota (account_id bigint PRIMARY KEY, used bigint NOT NULL DEFAULT 0);
INSERT INTO quota (account_id, used) SELECT g, g * 10 FROM generate_series(1, 40) g;
CREATE FUNCTION reset_quotas() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  total bigint;
BEGIN
  SELECT sum(used) INTO total FROM quota;
  UPDATE quota SET used = 0;
END $$;
