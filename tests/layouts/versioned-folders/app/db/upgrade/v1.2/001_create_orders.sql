CREATE TABLE orders (id bigint PRIMARY KEY, note varchar(50), customer bigint);
