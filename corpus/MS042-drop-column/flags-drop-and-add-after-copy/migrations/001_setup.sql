CREATE TABLE queries (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    schedule varchar(10)
);

INSERT INTO queries (name, schedule) VALUES ('daily', '86400'), ('never', NULL);
