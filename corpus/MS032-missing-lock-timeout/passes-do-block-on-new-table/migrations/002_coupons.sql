CREATE TABLE coupons (id bigint PRIMARY KEY, code text);
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'coupons_code_idx') THEN
    CREATE INDEX coupons_code_idx ON coupons (code);
  END IF;
  PERFORM set_config('application_name', 'migrations', false);
END
$$;
