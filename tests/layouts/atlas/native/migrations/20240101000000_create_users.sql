-- Create "users" table
CREATE TABLE "users" ("id" bigint NOT NULL, "email" character varying(100) NULL, "name" text NULL, "legacy" text NULL, PRIMARY KEY ("id"));
