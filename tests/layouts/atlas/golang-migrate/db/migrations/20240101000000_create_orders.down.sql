-- reverse: create "orders" table
DROP TABLE "orders";
