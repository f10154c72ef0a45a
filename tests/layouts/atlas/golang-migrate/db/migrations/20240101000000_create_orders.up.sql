-- create "orders" table
CREATE TABLE "orders" ("id" bigint NOT NULL, "note" character varying(50) NULL, "customer" bigint NULL, PRIMARY KEY ("id"));
