-- migrasafe: ignore MS050 -- 2.1 is not 2
CREATE TABLE carts (id bigint PRIMARY KEY);
