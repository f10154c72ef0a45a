"""MS005 for statements an older major cannot run at all (the truth suite runs them there)."""
from __future__ import annotations

import pytest

from migrasafe.check import run
from migrasafe.config import Config

BASE = "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int);\nCREATE TABLE s (id bigint PRIMARY KEY);\n"


@pytest.mark.parametrize("sql, first_major", [
    ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DO NOTHING;", 15),
    ("ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS (a + b) VIRTUAL;", 18),
    ("ALTER TABLE t ADD CONSTRAINT t_a_nn NOT NULL a NOT VALID;", 18),
])
def test_flagged_before_the_major_that_brings_it(tmp_path, sql, first_major):
    (tmp_path / "001_base.sql").write_text(BASE)
    (tmp_path / "002_change.sql").write_text("SET lock_timeout = '2s';\n" + sql + "\n")
    for major in range(12, 19):
        rules = {f.rule for f in run([str(tmp_path)], Config(pg_version=major)).all_findings()}
        assert ("MS005" in rules) == (major < first_major), major
