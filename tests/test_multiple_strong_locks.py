"""MS031 weighs work under several write-blocking locks apart from catalog-only statements;
MS032's fix names the configuration key for runners that set lock_timeout."""
from pathlib import Path

from migrasafe.check import run
from migrasafe.config import Config

SETUP = ("CREATE TABLE w (id int PRIMARY KEY);\nCREATE TABLE o (id int PRIMARY KEY, w_id int, n int);\n"
         "CREATE TABLE p (id int, k int) PARTITION BY RANGE (id);\n"
         "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);\n"
         "CREATE TABLE q (id int, k int) PARTITION BY RANGE (id);\n")


def ms031(tmp_path, sql, **config):
    (tmp_path / "V1__setup.sql").write_text(SETUP)
    (tmp_path / "V2__change.sql").write_text(sql)
    report = run([str(tmp_path)], Config(**config))
    (result,) = [r for r in report.results if Path(r.migration.path).name == "V2__change.sql"]
    return [(f.line, f.severity, f.message) for f in result.all_findings() if f.rule == "MS031"]


def test_work_under_locks_on_two_live_tables_is_a_warning(tmp_path):
    found = ms031(tmp_path, "BEGIN;\nALTER TABLE o ADD COLUMN c int;\nCREATE INDEX w_id ON w (id);\nCOMMIT;\n")
    assert [(line, severity) for line, severity, _ in found] == [(3, "warning")]
    assert "while this statement scans public.w" in found[0][2]


def test_work_on_a_table_already_locked_while_another_is_blocked_is_a_warning(tmp_path):
    # The second ALTER only touches the catalog (info); the index build then keeps both blocked.
    found = ms031(tmp_path, "BEGIN;\nALTER TABLE o ADD COLUMN c int;\nALTER TABLE w ADD COLUMN d int;\n"
                            "CREATE INDEX o_c ON o (c);\nCOMMIT;\n")
    assert [(line, severity) for line, severity, _ in found] == [(3, "info"), (4, "warning")]


def test_catalog_only_statements_are_an_info_that_names_the_lock_timeout(tmp_path):
    sql = "BEGIN;\nCREATE INDEX p_k ON ONLY p (k);\nCREATE INDEX q_k ON ONLY q (k);\nCOMMIT;\n"
    ((line, severity, message),) = ms031(tmp_path, sql)
    assert (line, severity) == (3, "info") and "no lock_timeout bounds that wait" in message
    ((_, severity, message),) = ms031(tmp_path, "SET lock_timeout = '5s';\n" + sql)
    assert severity == "info" and "lock_timeout 5s (set by the migration) bounds that wait" in message
    ((_, _, message),) = ms031(tmp_path, sql, lock_timeout="3s")
    assert "lock_timeout 3s (lock_timeout in the configuration)" in message


def test_a_lock_table_is_said_to_take_its_lock_not_to_change_the_catalog(tmp_path):
    found = ms031(tmp_path, "BEGIN;\nLOCK TABLE w IN SHARE MODE;\nLOCK TABLE o IN EXCLUSIVE MODE;\nCOMMIT;\n")
    ((line, severity, message),) = found
    assert (line, severity) == (3, "info")
    assert "this statement only takes its lock, so they stay blocked" in message


def test_foreign_keys_from_tables_created_here_are_catalog_only(tmp_path):
    found = ms031(tmp_path, "BEGIN;\nCREATE TABLE n (id int PRIMARY KEY, w_id int REFERENCES w (id), o_id int);\n"
                            "ALTER TABLE n ADD CONSTRAINT n_o FOREIGN KEY (o_id) REFERENCES o (id);\nCOMMIT;\n")
    assert [(line, severity) for line, severity, _ in found] == [(3, "info")]
    # A foreign key on a live table validates its rows under both locks: a warning.
    found = ms031(tmp_path, "BEGIN;\nALTER TABLE o ADD CONSTRAINT o_w FOREIGN KEY (w_id) REFERENCES w (id);\nCOMMIT;\n")
    assert [severity for _, severity, _ in found] == ["warning"]


def test_one_live_table_a_commit_between_or_new_tables_raise_nothing(tmp_path):
    assert ms031(tmp_path, "BEGIN;\nALTER TABLE o ADD COLUMN c int;\nCREATE INDEX o_n ON o (n);\nCOMMIT;\n") == []
    assert ms031(tmp_path, "BEGIN;\nALTER TABLE o ADD COLUMN c int;\nCOMMIT;\nCREATE INDEX w_i ON w (id);\n") == []
    # Tables created in this migration hold no rows and serve no traffic.
    assert ms031(tmp_path, "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\nALTER TABLE a ADD COLUMN c int;\n"
                           "CREATE INDEX b_id ON b (id);\n") == []


def test_missing_lock_timeout_fix_names_the_configuration_key(tmp_path):
    (tmp_path / "V1__setup.sql").write_text(SETUP)
    (tmp_path / "V2__change.sql").write_text("ALTER TABLE o ADD COLUMN c int;\n")
    report = run([str(tmp_path)], Config())
    (finding,) = [f for r in report.results for f in r.all_findings() if f.rule == "MS032"]
    assert finding.fix.startswith("SET lock_timeout = '2s';")
    assert 'lock_timeout = "5s" under [tool.migrasafe]' in finding.fix
    assert f'{{ {report.results[-1].migration.format} = "5s" }}' in finding.fix


def test_missing_lock_timeout_names_the_partitioned_table_not_a_partition(tmp_path):
    (tmp_path / "V1__setup.sql").write_text(SETUP + "CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (10) TO (20);\n"
                                            "CREATE INDEX p_k ON p (k);\n")
    (tmp_path / "V2__change.sql").write_text("DROP INDEX p_k;\n")
    report = run([str(tmp_path)], Config())
    messages = [f.message for f in report.all_findings() if f.rule == "MS032"]
    assert len(messages) == 1
    assert messages[0].startswith("AccessExclusiveLock on live table public.p and its 2 partitions is requested")


def test_an_index_that_exists_is_neither_built_nor_scanned(tmp_path):
    (tmp_path / "V1__setup.sql").write_text(SETUP + "CREATE INDEX w_id_idx ON w (id);\n")
    (tmp_path / "V2__change.sql").write_text("BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE o ADD COLUMN c int;\n"
                                             "CREATE INDEX IF NOT EXISTS w_id_idx ON w (id);\n"
                                             "CREATE INDEX IF NOT EXISTS w_id_idx2 ON w (id);\nCOMMIT;\n")
    report = run([str(tmp_path)], Config())
    (result,) = [r for r in report.results if Path(r.migration.path).name == "V2__change.sql"]
    by_line = {a.statement.line: a for a in result.statements}
    assert by_line[4].impact.scans == [] and by_line[4].impact.notes.get("index_exists")
    assert [l.mode for l in by_line[4].impact.locks] == ["ShareLock"]
    assert by_line[5].impact.scans == ["public.w"]
    assert {f.rule for f in result.all_findings() if f.line == 4} <= {"MS031"}
    assert "scans" not in " ".join(f.message for f in result.all_findings() if f.line == 4)
    assert "MS001" in {f.rule for f in result.all_findings() if f.line == 5}


def test_a_serial_columns_sequence_is_not_a_second_live_table(tmp_path):
    # DROP COLUMN of a serial locks the column's sequence too (PostgreSQL drops it with the
    # column): no traffic waits on it that does not wait on the table, even once it is gone.
    (tmp_path / "V1__setup.sql").write_text("CREATE TABLE owners (id serial, crate_id int, owner_id int);\n")
    (tmp_path / "V2__change.sql").write_text("BEGIN;\nALTER TABLE owners DROP COLUMN id;\n"
                                             "ALTER TABLE owners ADD PRIMARY KEY (crate_id, owner_id);\n"
                                             "UPDATE owners SET owner_id = 0 WHERE owner_id IS NULL;\nCOMMIT;\n")
    report = run([str(tmp_path)], Config())
    (result,) = [r for r in report.results if Path(r.migration.path).name == "V2__change.sql"]
    by_line = {a.statement.line: a for a in result.statements}
    assert {l.relation for l in by_line[2].impact.locks} == {"public.owners", "public.owners_id_seq"}
    found = result.all_findings()
    assert [f for f in found if f.rule == "MS031"] == []
    (timeout,) = [f for f in found if f.rule == "MS032"]
    assert (timeout.line, timeout.severity) == (2, "warning")
    assert timeout.message.startswith("AccessExclusiveLock on live table public.owners is requested")
    (backfill,) = [f for f in found if f.rule == "MS030"]
    assert "AccessExclusiveLock on public.owners (line 2):" in backfill.message
