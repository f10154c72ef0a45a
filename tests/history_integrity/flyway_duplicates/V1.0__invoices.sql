-- migrasafe: ignore-file MS050 -- renamed before the next deploy (ticket 123)
CREATE TABLE invoices (id bigint PRIMARY KEY);
