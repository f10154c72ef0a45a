-- reverse: create index "orders_customer" to table: "orders"
DROP INDEX "orders_customer";
