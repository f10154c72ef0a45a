BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE order_archive ADD COLUMN archived_at timestamptz;
INSERT INTO order_archive (id, amount, archived_at)
    SELECT id, amount, now() FROM orders WHERE status = 'shipped';
COMMIT;
