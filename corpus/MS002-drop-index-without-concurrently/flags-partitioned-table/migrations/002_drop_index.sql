SET lock_timeout = '2s';
DROP INDEX measurements_taken_on_idx;
