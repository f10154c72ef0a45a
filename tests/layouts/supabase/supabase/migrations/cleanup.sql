-- not <timestamp>_<name>.sql: the CLI skips it
DROP TABLE accounts;
