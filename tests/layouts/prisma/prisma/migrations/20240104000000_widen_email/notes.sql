-- kept for reference, Prisma never runs it
DROP TABLE accounts;
