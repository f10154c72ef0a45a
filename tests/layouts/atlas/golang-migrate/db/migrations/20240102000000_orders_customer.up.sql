SET lock_timeout = '2s';
-- create index "orders_customer" to table: "orders"
CREATE INDEX "orders_customer" ON "orders" ("customer");
