CREATE TABLE plan_phases (
    plan_id bigint NOT NULL,
    name text NOT NULL,
    starts_after interval
);
INSERT INTO plan_phases VALUES (1, 'trial', '14 days'), (1, 'paid', NULL), (2, 'paid', NULL);
