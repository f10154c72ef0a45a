-- Up Migration
CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    email varchar(100) NOT NULL
);

-- Down Migration
DROP TABLE accounts;
