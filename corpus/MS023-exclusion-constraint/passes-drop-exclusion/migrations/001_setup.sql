CREATE TABLE bookings (
    id bigserial PRIMARY KEY,
    room integer NOT NULL,
    during tsrange NOT NULL
);

INSERT INTO bookings (room, during) VALUES
    (1, '[2024-01-01 10:00, 2024-01-01 11:00)'),
    (1, '[2024-01-01 11:00, 2024-01-01 12:00)'),
    (2, '[2024-01-02 09:00, 2024-01-02 10:00)');

ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (during WITH &&);
