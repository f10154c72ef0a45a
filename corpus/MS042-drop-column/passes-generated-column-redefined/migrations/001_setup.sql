CREATE TABLE logs (
    id bigserial PRIMARY KEY,
    body text NOT NULL,
    search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED
);

INSERT INTO logs (body) VALUES ('disk full'), ('restarted');
