"""A generated lock-truth matrix: statement families x relation contexts, run on every
PostgreSQL major and compared with the static lock model."""
