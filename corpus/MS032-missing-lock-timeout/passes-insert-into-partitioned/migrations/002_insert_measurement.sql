INSERT INTO measurements (id, taken_on, value) VALUES (4, '2024-09-01', 4.5);
