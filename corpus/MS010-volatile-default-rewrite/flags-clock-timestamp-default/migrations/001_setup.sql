CREATE TABLE events (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    payload jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO events (kind, payload) VALUES
    ('login', '{"user": 1}'),
    ('logout', '{"user": 1}'),
    ('login', '{"user": 2}');
