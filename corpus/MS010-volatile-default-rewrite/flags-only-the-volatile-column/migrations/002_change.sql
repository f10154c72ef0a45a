SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN lease double precision NOT NULL DEFAULT random(), ADD COLUMN seen_at timestamptz NOT NULL DEFAULT now();
