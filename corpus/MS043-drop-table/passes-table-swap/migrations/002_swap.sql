SET lock_timeout = '2s';
BEGIN;
CREATE TABLE orders_new (
    id bigint PRIMARY KEY,
    customer_id bigint,
    amount numeric(12,2) NOT NULL DEFAULT 0
);
LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
COMMIT;
