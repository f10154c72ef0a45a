BEGIN;
ALTER TABLE t ADD CONSTRAINT t_note_short CHECK (length(note) < 100);
COMMIT;
