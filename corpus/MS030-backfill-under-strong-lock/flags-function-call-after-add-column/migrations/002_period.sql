BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE usage_resets ADD COLUMN period interval;
CREATE FUNCTION backfill_periods(batch int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE usage_resets SET period = interval '1 month' WHERE period IS NULL;
END $$;
SELECT backfill_periods(2000);
COMMIT;
