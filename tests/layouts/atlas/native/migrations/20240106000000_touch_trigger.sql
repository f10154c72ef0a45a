-- atlas:delimiter -- end

CREATE FUNCTION touch_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RETURN NEW;
END;
$$
-- end
CREATE TABLE "audit" ("id" bigint NOT NULL, "at" timestamptz NULL)
-- end
