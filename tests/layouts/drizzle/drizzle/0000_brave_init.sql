CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    email varchar(100) NOT NULL
);
--> statement-breakpoint
CREATE INDEX accounts_id_idx ON accounts (id);
