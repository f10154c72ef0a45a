CREATE TYPE mood AS ENUM ('happy', 'sad');

CREATE TABLE feedback (
    id bigserial PRIMARY KEY,
    mood mood NOT NULL
);

INSERT INTO feedback (mood) VALUES ('happy'), ('sad'), ('happy');
