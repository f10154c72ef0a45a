SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN gift boolean DEFAULT false;
ALTER TABLE orders ALTER COLUMN gift SET NOT NULL;
