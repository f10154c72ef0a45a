CREATE TABLE t (id int PRIMARY KEY, a int, note varchar(50));
