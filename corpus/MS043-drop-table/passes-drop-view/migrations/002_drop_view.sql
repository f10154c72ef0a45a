SET lock_timeout = '2s';
DROP VIEW open_orders;
