-- not in the journal: drizzle never runs it
DROP TABLE accounts;
