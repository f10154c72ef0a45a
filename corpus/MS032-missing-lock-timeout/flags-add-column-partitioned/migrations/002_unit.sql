ALTER TABLE measurements ADD COLUMN unit text;
