CREATE TABLE tags (id bigint PRIMARY KEY, label text);
INSERT INTO tags VALUES (1, 'a'), (2, 'b');
UPDATE tags SET label = upper(label);
CREATE TABLE tags_copy AS SELECT * FROM tags;
DELETE FROM tags;
