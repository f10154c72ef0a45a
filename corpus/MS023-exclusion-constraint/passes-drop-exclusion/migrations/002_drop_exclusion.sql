SET lock_timeout = '2s';
ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap;
