SELECT 1 / count(*) FROM pg_constraint WHERE conname = 't_note_check';
