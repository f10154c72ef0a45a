CREATE INDEX CONCURRENTLY t_note_idx ON t (note);
