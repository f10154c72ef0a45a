-- atlas:txmode none

-- Create index "users_name" to table: "users"
CREATE INDEX CONCURRENTLY "users_name" ON "users" ("name");
