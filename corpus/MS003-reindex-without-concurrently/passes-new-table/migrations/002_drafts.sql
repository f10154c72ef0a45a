CREATE TABLE drafts (id bigint PRIMARY KEY, body text);
INSERT INTO drafts VALUES (1, 'a'), (2, 'b');
REINDEX TABLE drafts;
