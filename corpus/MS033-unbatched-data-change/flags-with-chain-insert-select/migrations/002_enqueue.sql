WITH steps AS (SELECT * FROM step_run),
     unique_actions AS (SELECT DISTINCT id FROM steps)
INSERT INTO queue SELECT id FROM unique_actions;
