DO $$
DECLARE r record;
BEGIN
  FOR r IN WITH updates AS (UPDATE entry SET note = 'x' WHERE note IS NULL RETURNING id) SELECT id FROM updates LOOP
    RAISE NOTICE 'updated %', r.id;
  END LOOP;
END $$;
