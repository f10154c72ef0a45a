SET lock_timeout = '2s';
CREATE INDEX measurements_taken_on_idx ON measurements (taken_on);
