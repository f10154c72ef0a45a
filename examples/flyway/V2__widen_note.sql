SET lock_timeout = '2s';

-- Widening a varchar is metadata-only: no rewrite, no scan.
ALTER TABLE orders ALTER COLUMN note TYPE varchar(500);
ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';
