--liquibase formatted sql

--changeset carol:widen-note
ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);
--rollback ALTER TABLE orders ALTER COLUMN note TYPE varchar(100);

--changeset carol:touch-fn endDelimiter:/ runOnChange:true
CREATE OR REPLACE FUNCTION orders_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.note := coalesce(NEW.note, '');
    RETURN NEW;
END
$$
/
CREATE TRIGGER orders_touch BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION orders_touch()
/
--rollback DROP FUNCTION orders_touch() CASCADE;
