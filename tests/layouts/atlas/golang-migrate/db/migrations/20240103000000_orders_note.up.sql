CREATE INDEX CONCURRENTLY "orders_note" ON "orders" ("note");
