CREATE TABLE measurements (
    id bigint NOT NULL,
    taken_on date NOT NULL,
    value numeric NOT NULL
) PARTITION BY RANGE (taken_on);

CREATE TABLE measurements_2023 PARTITION OF measurements
    FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE measurements_2024 PARTITION OF measurements
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

INSERT INTO measurements (id, taken_on, value) VALUES
    (1, '2023-05-01', 1.5),
    (2, '2024-02-10', 2.5),
    (3, '2024-07-04', 3.5);
CREATE INDEX measurements_taken_on_idx ON measurements (taken_on);
