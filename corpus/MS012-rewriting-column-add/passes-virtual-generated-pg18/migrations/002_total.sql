SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN total numeric GENERATED ALWAYS AS (amount * quantity) VIRTUAL;
