SELECT quota_total();
SELECT quota_of(7);
