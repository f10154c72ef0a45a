SELECT count(*) FROM measurements WHERE taken_on >= '2024-01-01';
