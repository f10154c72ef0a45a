CREATE TABLE t (id int PRIMARY KEY, note varchar(50));
