SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN new_note text;
ALTER TABLE orders RENAME COLUMN new_note TO gift_note;
