WITH gone AS (DELETE FROM session RETURNING id, token)
INSERT INTO session_log (id, token) SELECT id, token FROM gone;
