SET lock_timeout = '2s';
CREATE INDEX orders_customer ON orders (customer);
