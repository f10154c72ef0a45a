SET lock_timeout = '2s';
TRUNCATE order_items, orders;
