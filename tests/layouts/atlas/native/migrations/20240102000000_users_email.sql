SET lock_timeout = '2s';
-- Create index "users_email" to table: "users"
CREATE INDEX "users_email" ON "users" ("email");
