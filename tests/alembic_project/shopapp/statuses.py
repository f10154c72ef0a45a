"""Application code a revision imports, as revisions in real projects do."""

ORDER_STATUSES = ("pending", "paid", "shipped")
