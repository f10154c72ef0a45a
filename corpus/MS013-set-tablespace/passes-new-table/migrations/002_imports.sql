CREATE TABLE imports (id bigint PRIMARY KEY, payload text);
ALTER TABLE imports SET TABLESPACE pg_default;
