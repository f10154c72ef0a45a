CREATE TABLE job (id bigint PRIMARY KEY, state text NOT NULL);
CREATE TABLE job_archive (job_id bigint NOT NULL, state text NOT NULL);
INSERT INTO job (id, state) SELECT g, CASE WHEN g % 2 = 0 THEN 'done' ELSE 'new' END FROM generate_series(1, 40) g;
