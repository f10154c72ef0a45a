DROP INDEX CONCURRENTLY orders_email_idx;
