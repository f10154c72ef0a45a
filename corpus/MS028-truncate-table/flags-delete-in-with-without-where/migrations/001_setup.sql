CREATE TABLE session (id bigint PRIMARY KEY, token text NOT NULL);
CREATE TABLE session_log (id bigint, token text);
INSERT INTO session (id, token) SELECT g, 'tok' || g FROM generate_series(1, 20) g;
