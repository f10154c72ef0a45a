SELECT 1 / count(*) FROM pg_indexes WHERE indexname = 't_a_idx';
