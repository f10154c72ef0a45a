CREATE TABLE holds (
    id bigserial PRIMARY KEY,
    during tsrange NOT NULL
);
ALTER TABLE holds ADD CONSTRAINT holds_no_overlap EXCLUDE USING gist (during WITH &&);
