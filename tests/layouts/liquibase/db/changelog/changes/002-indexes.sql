--liquibase formatted sql

--changeset bob:status-index
--preconditions onFail:MARK_RAN
--precondition-sql-check expectedResult:0 SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_status_idx'
CREATE INDEX orders_status_idx ON orders (status);
--rollback DROP INDEX orders_status_idx;

--changeset bob:email-index runInTransaction:false
CREATE INDEX CONCURRENTLY orders_email_idx ON orders (email);
/* liquibase rollback
DROP INDEX CONCURRENTLY orders_email_idx;
DROP TABLE orders;
*/
