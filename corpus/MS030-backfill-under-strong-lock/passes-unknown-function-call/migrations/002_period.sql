BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE usage_resets ADD COLUMN period interval;
SELECT backfill_periods(2000);
COMMIT;
