CREATE TABLE tags (
    id integer NOT NULL,
    name text NOT NULL
);

INSERT INTO tags (id, name) VALUES (1, 'red'), (2, 'green'), (3, 'blue');
