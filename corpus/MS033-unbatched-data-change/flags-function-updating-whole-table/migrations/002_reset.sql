SELECT reset_quotas();
