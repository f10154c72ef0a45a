SET lock_timeout = '2s';
ALTER TABLE b DROP CONSTRAINT b_a_id_fkey;
DROP TABLE b;
