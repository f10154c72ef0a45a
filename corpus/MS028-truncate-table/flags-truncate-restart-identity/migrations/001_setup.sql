CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    actor text NOT NULL,
    action text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO audit_log (actor, action) VALUES ('ann', 'login'), ('bob', 'update'), ('ann', 'logout');
