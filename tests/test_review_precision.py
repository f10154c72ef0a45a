"""Cases a review of real histories found: what a statement really blocks when its own lock, or
one the transaction already holds on the table, is AccessExclusiveLock; a DROP INDEX under such
a lock adds nothing; the default dropped from, or NOT NULL set on, a column the same migration
adds; a DELETE without WHERE, which leaves the table's pages to read, against a TRUNCATE; the
index of a partitioned table, which cannot be dropped CONCURRENTLY."""
from __future__ import annotations

from pathlib import Path

from migrasafe.check import run
from migrasafe.config import Config

SETUP = ("CREATE TABLE a (id bigint PRIMARY KEY);\n"
         "CREATE TABLE b (id bigint PRIMARY KEY, a_id bigint, CONSTRAINT b_a_fk FOREIGN KEY (a_id) REFERENCES a);\n"
         "CREATE INDEX b_a ON b (a_id);\n")


def findings(tmp_path: Path, sql: str):
    (tmp_path / "001_setup.sql").write_text(SETUP)
    (tmp_path / "002_change.sql").write_text(sql)
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    return [(f.line, f.rule, f.severity, f.message) for f in report.all_findings()
            if Path(f.path).name == "002_change.sql"]


def test_a_foreign_key_replaced_in_one_alter_blocks_reads_too(tmp_path):
    found = findings(tmp_path, "ALTER TABLE b DROP CONSTRAINT b_a_fk, "
                               "ADD CONSTRAINT b_a_fk FOREIGN KEY (a_id) REFERENCES a ON DELETE CASCADE;\n")
    (message,) = [m for _, rule, _, m in found if rule == "MS020"]
    assert "blocking reads and writes on public.b and public.a" in message


def test_a_foreign_key_added_alone_blocks_writes(tmp_path):
    found = findings(tmp_path, "ALTER TABLE b ADD CONSTRAINT b_a_fk2 FOREIGN KEY (a_id) REFERENCES a;\n")
    (message,) = [m for _, rule, _, m in found if rule == "MS020"]
    assert "blocking writes on public.b and public.a" in message


def test_drop_and_create_index_in_one_transaction(tmp_path):
    found = findings(tmp_path, "BEGIN;\nDROP INDEX b_a;\nCREATE INDEX b_a ON b (a_id);\nCOMMIT;\n")
    assert [(line, rule, severity) for line, rule, severity, _ in found if rule in ("MS001", "MS002")] == [
        (2, "MS002", "warning"), (3, "MS001", "error")]
    (message,) = [m for _, rule, _, m in found if rule == "MS001"]
    assert "already holds AccessExclusiveLock on it, since line 2, so reads wait too" in message


def test_drop_index_under_a_held_exclusive_lock_is_info(tmp_path):
    found = findings(tmp_path, "BEGIN;\nALTER TABLE b ADD COLUMN note text;\nDROP INDEX b_a;\nCOMMIT;\n")
    assert [(line, severity) for line, rule, severity, _ in found if rule == "MS002"] == [(3, "info")]


def test_dropping_the_default_of_a_column_this_migration_adds_is_an_error(tmp_path):
    found = findings(tmp_path, "ALTER TABLE b ADD COLUMN flag boolean NOT NULL DEFAULT false;\n"
                               "ALTER TABLE b ALTER COLUMN flag DROP DEFAULT;\n")
    assert [(line, severity) for line, rule, severity, _ in found if rule == "MS046"] == [(2, "error")]
    (message,) = [m for _, rule, _, m in found if rule == "MS046"]
    assert "which this migration adds" in message


def test_dropping_the_default_together_with_not_null_breaks_no_insert(tmp_path):
    # An INSERT that omits the column gets NULL, which the column accepts from then on.
    found = findings(tmp_path, "ALTER TABLE b ADD COLUMN seen timestamptz NOT NULL DEFAULT now();\n"
                               "ALTER TABLE b ALTER COLUMN seen DROP NOT NULL, ALTER COLUMN seen DROP DEFAULT;\n")
    assert [line for line, rule, _, _ in found if rule == "MS046"] == []


def test_dropping_the_default_then_not_null_in_one_transaction_breaks_no_insert(tmp_path):
    (tmp_path / "000_table.sql").write_text(
        "CREATE TABLE c (id bigint PRIMARY KEY, seen timestamptz NOT NULL DEFAULT now());\n")
    found = findings(tmp_path, "BEGIN;\nALTER TABLE c ALTER COLUMN seen DROP DEFAULT;\n"
                               "ALTER TABLE c ALTER COLUMN seen DROP NOT NULL;\nCOMMIT;\n")
    assert [line for line, rule, _, _ in found if rule == "MS046"] == []
    found = findings(tmp_path, "ALTER TABLE c ALTER COLUMN seen DROP DEFAULT;\n")
    assert [(line, severity) for line, rule, severity, _ in found if rule == "MS046"] == [(1, "warning")]


def test_set_not_null_on_a_column_this_migration_adds_is_an_error(tmp_path):
    found = findings(tmp_path, "BEGIN;\nALTER TABLE b ADD COLUMN note text;\nUPDATE b SET note = 'x';\n"
                               "ALTER TABLE b ALTER COLUMN note SET NOT NULL;\nCOMMIT;\n")
    assert [(line, severity) for line, rule, severity, _ in found if rule == "MS045"] == [(4, "error")]
    (message,) = [m for _, rule, _, m in found if rule == "MS045"]
    assert "does not know the column, so every one of its INSERTs into public.b fails from the commit on" in message
    (finding,) = [f for f in run([str(tmp_path)], Config(lock_timeout="2s")).all_findings() if f.rule == "MS045"]
    assert "ADD COLUMN note text NOT NULL DEFAULT <constant>;" in finding.fix
    assert "NOT VALID, VALIDATE" in finding.fix


def test_set_not_null_on_a_column_this_migration_adds_is_one_finding(tmp_path):
    """MS045's fix (a default, or NOT NULL in a later migration) removes the scan too: MS024's
    fix alone would still fail every INSERT of the running application, so it is not a second
    thing to fix, and MS045 says the scan."""
    found = findings(tmp_path, "BEGIN;\nALTER TABLE b ADD COLUMN note text;\nUPDATE b SET note = 'x';\n"
                               "ALTER TABLE b ALTER COLUMN note SET NOT NULL;\nCOMMIT;\n")
    assert [rule for line, rule, _, _ in found if line == 4 and rule in ("MS024", "MS045")] == ["MS045"]
    (message,) = [m for _, rule, _, m in found if rule == "MS045"]
    assert "SET NOT NULL scans all of public.b under AccessExclusiveLock, which the fix avoids too" in message


def test_set_not_null_on_an_older_column_stays_a_warning(tmp_path):
    found = findings(tmp_path, "ALTER TABLE b ALTER COLUMN a_id SET NOT NULL;\n")
    assert [(line, severity) for line, rule, severity, _ in found if rule == "MS045"] == [(1, "warning")]
    # Not a new column: the scan and the writers are two things to fix, each its own finding.
    assert [rule for _, rule, _, _ in found if rule in ("MS024", "MS045")] == ["MS045", "MS024"]


def test_a_delete_without_where_leaves_later_index_builds_and_not_null_columns_flagged(tmp_path):
    found = findings(tmp_path, "BEGIN;\nDELETE FROM b;\nALTER TABLE b ADD COLUMN tenant text NOT NULL;\n"
                               "CREATE UNIQUE INDEX b_a_unique ON b (a_id);\nCOMMIT;\n")
    assert [(line, rule, severity) for line, rule, severity, _ in found if rule in ("MS001", "MS026")] == [
        (3, "MS026", "error"), (4, "MS001", "error")]


def test_a_truncate_spares_the_index_build_but_not_the_inserts_of_the_running_application(tmp_path):
    found = findings(tmp_path, "BEGIN;\nTRUNCATE b;\nALTER TABLE b ADD COLUMN tenant text NOT NULL;\n"
                               "CREATE UNIQUE INDEX b_a_unique ON b (a_id);\nCOMMIT;\n")
    assert [(line, rule, severity) for line, rule, severity, _ in found if rule in ("MS001", "MS026")] == [
        (3, "MS026", "error")]
    (message,) = [m for _, rule, _, m in found if rule == "MS026"]
    assert "succeeds only because the TRUNCATE on line 2 emptied public.b" in message


def test_a_truncate_then_insert_select_fills_the_table_again(tmp_path):
    found = findings(tmp_path, "BEGIN;\nTRUNCATE b;\nINSERT INTO b SELECT id, id FROM a;\n"
                               "CREATE INDEX b_id_a ON b (id, a_id);\nCOMMIT;\n")
    assert [line for line, rule, _, _ in found if rule == "MS001"] == [4]


PARTITIONED = ("CREATE TABLE ev (id bigint, key text, at date) PARTITION BY RANGE (at);\n"
               "CREATE TABLE ev_2024 PARTITION OF ev FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n"
               "CREATE INDEX ev_key_idx ON ev (key);\n")


def test_drop_index_of_a_partitioned_table_is_not_told_to_use_concurrently(tmp_path):
    (tmp_path / "001_setup.sql").write_text(PARTITIONED)
    (tmp_path / "002_change.sql").write_text("DROP INDEX ev_key_idx;\n")
    (finding,) = [f for f in run([str(tmp_path)], Config()).all_findings() if f.rule == "MS002"]
    assert "every one of its partitions" in finding.message
    assert "CONCURRENTLY" not in finding.fix.replace("CONCURRENTLY is not supported", "")
    assert finding.fix.endswith("SET lock_timeout = '2s';\nDROP INDEX ev_key_idx;")
    (tmp_path / "002_change.sql").write_text("SET lock_timeout = '1s';\nDROP INDEX ev_key_idx;\n")
    (finding,) = [f for f in run([str(tmp_path)], Config()).all_findings() if f.rule == "MS002"]
    assert "SET lock_timeout" not in finding.fix


def _fixes(tmp_path: Path, rule: str):
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    return [f.fix for f in report.all_findings() if f.rule == rule and Path(f.path).name == "002_change.sql"]


def test_checks_added_by_one_alter_are_one_scan_and_one_finding(tmp_path):
    (tmp_path / "000_columns.sql").write_text("CREATE TABLE t (id bigint PRIMARY KEY, x int, y int, z int);\n")
    found = findings(tmp_path, "ALTER TABLE t ADD CONSTRAINT a CHECK (x > 0), ADD CONSTRAINT b CHECK (y > 0), "
                               "ADD CONSTRAINT c CHECK (z > 0);\n")
    (message,) = [m for _, rule, _, m in found if rule == "MS021"]
    assert "CHECK constraints a, b, c scans live table public.t once for all of them" in message
    (fix,) = _fixes(tmp_path, "MS021")
    first, _, validates = fix.partition("\n-- then, each VALIDATE ")
    assert first.count("NOT VALID") == 3
    assert validates.splitlines()[1:] == [f"ALTER TABLE public.t VALIDATE CONSTRAINT {n};" for n in "abc"]


def test_a_check_added_alone_names_its_constraint(tmp_path):
    (tmp_path / "000_columns.sql").write_text("CREATE TABLE t (id bigint PRIMARY KEY, x int);\n")
    found = findings(tmp_path, "ALTER TABLE t ADD CONSTRAINT t_x_positive CHECK (x > 0);\n")
    assert [m for _, rule, _, m in found if rule == "MS021"] == [
        "adding CHECK constraint t_x_positive scans live table public.t under AccessExclusiveLock"]


def test_foreign_keys_of_one_alter_are_one_finding_per_referenced_table(tmp_path):
    (tmp_path / "000_columns.sql").write_text("CREATE TABLE c (id bigint PRIMARY KEY);\n")
    found = findings(tmp_path, "ALTER TABLE b ADD COLUMN a2 bigint, ADD COLUMN c_id bigint;\n"
                               "ALTER TABLE b ADD CONSTRAINT b_a2_fk FOREIGN KEY (a2) REFERENCES a, "
                               "ADD CONSTRAINT b_a_fk2 FOREIGN KEY (a_id) REFERENCES a, "
                               "ADD CONSTRAINT b_c_fk FOREIGN KEY (c_id) REFERENCES c;\n")
    messages = [m for _, rule, _, m in found if rule == "MS020"]
    assert messages == [
        "adding foreign keys b_a2_fk, b_a_fk2 checks every row of public.b while blocking writes on public.b and public.a",
        "adding foreign key b_c_fk checks every row of public.b while blocking writes on public.b and public.c"]


def test_drop_table_whose_key_this_migration_dropped_names_only_its_own_lock(tmp_path):
    found = findings(tmp_path, "ALTER TABLE b DROP CONSTRAINT b_a_fk;\nDROP TABLE b;\n")
    assert [m for _, rule, _, m in found if rule == "MS043"] == [
        "dropping live table public.b breaks running code and takes AccessExclusiveLock on it"]


def test_drop_table_whose_key_an_earlier_migration_dropped_names_only_its_own_lock(tmp_path):
    (tmp_path / "001_setup.sql").write_text(SETUP)
    (tmp_path / "002_key.sql").write_text("ALTER TABLE b DROP CONSTRAINT b_a_fk;\n")
    (tmp_path / "003_drop.sql").write_text("DROP TABLE b;\n")
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    assert [f.message for f in report.all_findings() if f.rule == "MS043"] == [
        "dropping live table public.b breaks running code and takes AccessExclusiveLock on it"]


def test_drop_table_names_the_table_it_references(tmp_path):
    found = findings(tmp_path, "DROP TABLE b;\n")
    assert [m for _, rule, _, m in found if rule == "MS043"] == [
        "dropping live table public.b breaks running code and takes AccessExclusiveLock on it "
        "and on public.a (which it references)"]


def test_a_column_dropped_and_added_again_loses_its_values(tmp_path):
    (tmp_path / "000_columns.sql").write_text("CREATE TABLE t (id bigint PRIMARY KEY, features jsonb, tags text[]);\n")
    found = findings(tmp_path, "ALTER TABLE t DROP COLUMN features, ADD COLUMN features text[];\n"
                               "ALTER TABLE t DROP COLUMN tags;\nALTER TABLE t ADD COLUMN tags text[] DEFAULT '{}';\n")
    assert [(line, severity, m) for line, rule, severity, m in found if rule == "MS042"] == [
        (1, "error", "dropping public.t.features and adding it again in the same statement destroys every value "
                     "stored in it: every existing row is left with NULL, and its type changes from jsonb to "
                     "text[] under the running code, which still reads and writes features"),
        (2, "error", "dropping public.t.tags and adding it again on line 3 destroys every value stored in it: "
                     "every existing row is left with the new column's default (the type stays text[])")]
    assert "ALTER COLUMN features TYPE text[] USING" in _fixes(tmp_path, "MS042")[0]


def test_a_column_dropped_and_replaced_by_a_rename_changes_type_under_the_running_code(tmp_path):
    (tmp_path / "000_columns.sql").write_text("CREATE TABLE ev (id bigint PRIMARY KEY, started timestamp(3));\n")
    found = findings(tmp_path, "BEGIN;\nALTER TABLE ev ADD COLUMN started_ns bigint;\n"
                               "UPDATE ev SET started_ns = extract(epoch FROM started) * 1000000000;\n"
                               "ALTER TABLE ev DROP COLUMN started;\n"
                               "ALTER TABLE ev RENAME COLUMN started_ns TO started;\nCOMMIT;\n")
    assert [(line, severity, m) for line, rule, severity, m in found if rule == "MS042"] == [
        (4, "error", "dropping public.ev.started and renaming started_ns to started on line 5 replaces the column "
                     "under the running application: the running code, which still reads and writes started, "
                     "finds int8 values where it had timestamp(3)")]
    # Committed in between, the column is missing for a while: the plain drop warning.
    found = findings(tmp_path, "BEGIN;\nALTER TABLE ev ADD COLUMN started_ns bigint;\nALTER TABLE ev DROP COLUMN started;\n"
                               "COMMIT;\nALTER TABLE ev RENAME COLUMN started_ns TO started;\n")
    assert [(line, severity) for line, rule, severity, _ in found if rule == "MS042"] == [(3, "warning")]


def test_a_column_dropped_and_added_again_not_null_fails_rather_than_holding_nulls(tmp_path):
    (tmp_path / "000_columns.sql").write_text("CREATE TABLE t (id bigint PRIMARY KEY, schedule text);\n")
    found = findings(tmp_path, "ALTER TABLE t DROP COLUMN schedule, ADD COLUMN schedule jsonb NOT NULL;\n")
    (message,) = [m for _, rule, _, m in found if rule == "MS042"]
    assert ("destroys every value stored in it: the new column is NOT NULL without a default, so the statement "
            "fails on a table with rows (MS026), and its type changes from text to jsonb") in message


def test_a_column_dropped_for_good_stays_a_warning(tmp_path):
    found = findings(tmp_path, "ALTER TABLE b DROP COLUMN a_id;\n")
    assert [(severity, m) for _, rule, severity, m in found if rule == "MS042"] == [
        ("warning", "dropping public.b.a_id breaks running code that still selects or writes it")]


def test_a_foreign_key_names_each_table_once_and_what_it_blocks_there(tmp_path):
    (tmp_path / "000_columns.sql").write_text("CREATE TABLE tokens (id bigint PRIMARY KEY, parent bigint);\n"
                                              "CREATE TABLE owners (id bigint PRIMARY KEY);\n")
    found = findings(tmp_path, "BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE tokens ADD COLUMN owner_id bigint;\n"
                               "ALTER TABLE tokens ADD CONSTRAINT tokens_parent_fk FOREIGN KEY (parent) REFERENCES tokens;\n"
                               "ALTER TABLE tokens ADD CONSTRAINT tokens_owner_fk FOREIGN KEY (owner_id) REFERENCES owners;\n"
                               "CREATE TABLE sessions (id bigint PRIMARY KEY);\n"
                               "ALTER TABLE tokens ADD CONSTRAINT tokens_session_fk FOREIGN KEY (parent) REFERENCES sessions;\n"
                               "COMMIT;\n")
    messages = [m for _, rule, _, m in found if rule == "MS020"]
    assert messages == [
        "adding foreign key tokens_parent_fk checks every row of public.tokens while blocking reads and writes on "
        "public.tokens",
        "adding foreign key tokens_owner_fk checks every row of public.tokens while blocking reads and writes on "
        "public.tokens and writes on public.owners",
        "adding foreign key tokens_session_fk checks every row of public.tokens while blocking reads and writes on "
        "public.tokens"]


def test_a_type_change_names_the_new_type_and_a_key_column_gets_the_key_swap(tmp_path):
    (tmp_path / "000_columns.sql").write_text("CREATE TABLE t (id int PRIMARY KEY, k int);\n")
    found = findings(tmp_path, "ALTER TABLE t ALTER COLUMN id TYPE bigint;\nALTER TABLE t ALTER COLUMN k TYPE bigint;\n")
    messages = [m for _, rule, _, m in found if rule == "MS011"]
    assert messages == ["changing public.t.id from int4 to bigint rewrites the table and all its indexes",
                        "changing public.t.k from int4 to bigint rewrites the table and all its indexes"]
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    fixes = [f.fix for f in report.all_findings() if f.rule == "MS011"]
    assert "ADD COLUMN id_new bigint;" in fixes[0] and "PRIMARY KEY USING INDEX" in fixes[0]
    assert "ADD COLUMN k_new bigint;" in fixes[1] and "PRIMARY KEY" not in fixes[1]


def test_a_table_renamed_under_the_transactions_lock_is_named_once_by_its_new_name(tmp_path):
    found = findings(tmp_path, "BEGIN;\nALTER TABLE b ADD COLUMN note text;\nALTER TABLE b RENAME TO c;\n"
                               "ALTER TABLE c ADD COLUMN kind text;\nUPDATE c SET kind = 'x';\nCOMMIT;\n")
    (message,) = [m for line, rule, _, m in found if rule == "MS030"]
    assert "holds AccessExclusiveLock on public.c (line 2): every query on public.c waits" in message
    assert "public.b" not in message


def test_a_table_moved_to_another_schema_is_named_once_by_its_new_name(tmp_path):
    found = findings(tmp_path, "CREATE SCHEMA archive;\nBEGIN;\nALTER TABLE b ADD COLUMN note text;\n"
                               "ALTER TABLE b SET SCHEMA archive;\nUPDATE archive.b SET note = 'x';\nCOMMIT;\n")
    (message,) = [m for line, rule, _, m in found if rule == "MS030"]
    assert "holds AccessExclusiveLock on archive.b (line 3): every query on archive.b waits" in message


def test_an_enum_swap_that_keeps_every_label_is_a_rewrite_not_an_incompatible_change(tmp_path):
    # Rename the type away, create it again with one more label, move the column: the table is
    # rewritten (MS011), but every value the running code writes is still a label, in order.
    (tmp_path / "000_types.sql").write_text("CREATE TYPE pht AS ENUM ('SHA1', 'bcrypt');\n"
                                            "CREATE TABLE users (id int PRIMARY KEY, hash_type pht);\n")
    swap = ("BEGIN;\nALTER TYPE pht RENAME TO old_pht;\nCREATE TYPE pht AS ENUM ('md5', 'SHA1', 'bcrypt', 'sha1+bcrypt');\n"
            "ALTER TABLE users ALTER COLUMN hash_type TYPE pht USING hash_type::text::pht;\nDROP TYPE old_pht;\nCOMMIT;\n")
    found = findings(tmp_path, swap)
    assert [rule for _, rule, _, _ in found] == ["MS011"]
    assert found[0][3] == "changing public.users.hash_type from public.old_pht to pht rewrites the table and all its indexes"
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    (fix,) = [f.fix for f in report.all_findings() if f.rule == "MS011"]
    assert fix.splitlines()[-2:] == ["ALTER TYPE public.old_pht ADD VALUE IF NOT EXISTS 'md5' BEFORE 'SHA1';",
                                     "ALTER TYPE public.old_pht ADD VALUE IF NOT EXISTS 'sha1+bcrypt' AFTER 'bcrypt';"]
    # A label dropped, or the order changed, is incompatible: the swap is flagged as before.
    for labels in ("'SHA1'", "'bcrypt', 'SHA1'"):
        found = findings(tmp_path, swap.replace("'md5', 'SHA1', 'bcrypt', 'sha1+bcrypt'", labels))
        (message,) = [m for _, rule, _, m in found if rule == "MS044"]
        assert message.startswith("public.users.hash_type changes from public.old_pht to public.pht:")


def test_an_index_on_a_dropped_column_goes_with_it(tmp_path):
    # PostgreSQL drops the index with the column, so a later CREATE INDEX IF NOT EXISTS of that
    # name builds a new one, and the old key's name is free for the next primary key.
    (tmp_path / "000_index.sql").write_text("CREATE TABLE vd (id serial PRIMARY KEY, version_id int, processed bool);\n"
                                            "CREATE UNIQUE INDEX vd_np ON vd (id) WHERE processed = false;\n")
    found = findings(tmp_path, "ALTER TABLE vd DROP COLUMN id;\nALTER TABLE vd ADD PRIMARY KEY (version_id);\n"
                               "CREATE INDEX IF NOT EXISTS vd_np ON vd (processed) WHERE NOT processed;\n")
    assert [(line, rule) for line, rule, _, _ in found if rule in ("MS001", "MS022")] == [(2, "MS022"), (3, "MS001")]
    (key,) = [m for _, rule, _, m in found if rule == "MS022"]
    assert key.startswith("ADD PRIMARY KEY vd_pkey builds its index")


def test_an_enum_column_rewritten_to_its_own_type_keeps_the_expand_contract_fix(tmp_path):
    (tmp_path / "000_types.sql").write_text("CREATE TYPE mood AS ENUM ('sad', 'ok');\n"
                                            "CREATE TABLE people (id int PRIMARY KEY, m mood);\n")
    findings(tmp_path, "ALTER TABLE people ALTER COLUMN m TYPE mood USING m::text::mood;\n")
    report = run([str(tmp_path)], Config(lock_timeout="2s"))
    (fix,) = [f.fix for f in report.all_findings() if f.rule == "MS011"]
    assert "ADD COLUMN m_new mood;" in fix and "ADD VALUE" not in fix


def test_a_type_change_of_a_column_the_history_does_not_show_names_only_the_new_type(tmp_path):
    found = findings(tmp_path, "ALTER TABLE legacy ALTER COLUMN options TYPE jsonb USING options::jsonb;\n")
    assert [m for _, rule, _, m in found if rule == "MS011"] == [
        "changing public.legacy.options to jsonb rewrites the table and all its indexes"]


def test_set_not_null_on_a_column_added_back_under_a_name_the_running_code_writes(tmp_path):
    # The old column is renamed away and a new one takes its name: the running code's INSERTs
    # still name the column, so NOT NULL on it is the ordinary warning, and its scan MS024's.
    (tmp_path / "000_jobs.sql").write_text("CREATE TABLE jobs (id int PRIMARY KEY, name text NOT NULL);\n")
    found = findings(tmp_path, "BEGIN;\nALTER TABLE jobs RENAME COLUMN name TO simple_name;\n"
                               "ALTER TABLE jobs ADD COLUMN name text;\nUPDATE jobs SET name = simple_name;\n"
                               "ALTER TABLE jobs ALTER COLUMN name SET NOT NULL;\nCOMMIT;\n")
    assert [(line, rule, severity) for line, rule, severity, _ in found if rule in ("MS024", "MS045")] == [
        (5, "MS045", "warning"), (5, "MS024", "error")]
    # Without the rename, nothing of the running code writes the new column.
    found = findings(tmp_path, "BEGIN;\nALTER TABLE jobs ADD COLUMN label text;\nUPDATE jobs SET label = name;\n"
                               "ALTER TABLE jobs ALTER COLUMN label SET NOT NULL;\nCOMMIT;\n")
    assert [(line, rule, severity) for line, rule, severity, _ in found if rule in ("MS024", "MS045")] == [
        (4, "MS045", "error")]


def test_a_column_another_file_of_the_popx_release_adds_is_said_to_be_the_releases(tmp_path):
    # popx deploys a release's files together: the column is new to the running code, though an
    # earlier file of the release added it.
    root = tmp_path / "migrations"
    root.mkdir()
    (root / "20200101000000000000_t.up.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    (root / "20210805112414000000_c.up.sql").write_text("ALTER TABLE t ADD COLUMN c jsonb;\n")
    (root / "20210805112414000001_c.up.sql").write_text("UPDATE t SET c = '{}';\n")
    (root / "20210805112414000002_c.up.sql").write_text("ALTER TABLE t ALTER COLUMN c SET NOT NULL;\n")
    report = run([str(root)], Config(lock_timeout="2s", format="popx"))
    (message,) = [f.message for f in report.all_findings() if f.rule == "MS045"]
    assert message.startswith("NOT NULL on public.t.c, which this popx release 20210805112414 adds without a default:")
