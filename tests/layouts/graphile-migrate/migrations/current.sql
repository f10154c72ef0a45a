-- work in progress
DROP TABLE accounts;
