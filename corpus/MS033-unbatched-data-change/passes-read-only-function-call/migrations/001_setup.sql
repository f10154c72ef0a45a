CREATE TABLE quota (account_id bigint PRIMARY KEY, used bigint NOT NULL DEFAULT 0);
INSERT INTO quota (account_id, used) SELECT g, g * 10 FROM generate_series(1, 40) g;
CREATE FUNCTION quota_total() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  total bigint;
BEGIN
  SELECT sum(used) INTO total FROM quota;
  RETURN total;
END $$;
CREATE FUNCTION quota_of(account bigint) RETURNS bigint LANGUAGE sql AS $$
  SELECT used FROM quota WHERE account_id = account
$$;
