"""`migrasafe verify`: upgrade → downgrade → upgrade round trips on one PostgreSQL 18 server.

Each sample history in tests/verify_samples/ has round trips that restore the schema and one that
does not (a down that leaves an index behind, does not restore a type or a default, or fails),
and the tests assert the exact findings, where they point, and the exit code.
"""
import json
import subprocess
from pathlib import Path

import pytest

from migrasafe.cli import main
from migrasafe.config import Config
from migrasafe.verify import VerifyError, VerifyOptions, verify

SAMPLES = Path(__file__).parent / "verify_samples"


@pytest.fixture(scope="module")
def server():
    from migrasafe.replay.backends import open_backend

    with open_backend("embedded", pg_version=18) as started:
        yield started


def run(server, path, **options):
    return verify([str(path)], Config(), VerifyOptions(**options), server=server)


def statuses(report):
    return [(t.name, t.status) for c in report.chains for t in c.trips]


def found(report, root=SAMPLES):
    """(severity, file relative to `root`, line, message) of every finding, in report order."""
    return [(n.severity, str(Path(n.path).relative_to(root)), n.line, n.message) for n in report.notes()]


def test_golang_migrate_down_that_leaves_an_index_behind(server):
    report = run(server, SAMPLES / "golang-migrate")
    assert statuses(report) == [("000001_create_t.up.sql", "restored"), ("000002_add_index.up.sql", "not restored"),
                                ("000003_add_b.up.sql", "restored")]
    assert found(report) == [
        ("error", "golang-migrate/000002_add_index.down.sql", 1,
         "down of 000002_add_index.down.sql leaves index public.t_a_idx behind"),
        ("error", "golang-migrate/000002_add_index.up.sql", 1, "000002_add_index.up.sql applied again after its "
         "down fails at line 1: 42P07: relation \"t_a_idx\" already exists"),
    ]
    difference = report.notes()[0].difference
    assert (difference.kind, difference.identity, difference.change) == ("index", "public.t_a_idx", "added")
    # 000003 ran on a database rebuilt after 000002 applied again failed: it still round-trips.
    assert report.exit_code() == 1


def test_goose_down_that_does_not_restore_a_type(server):
    report = run(server, SAMPLES / "goose")
    assert statuses(report) == [("00001_create_t.sql", "restored"), ("00002_widen_note.sql", "not restored"),
                                ("00003_note_index.sql", "restored")]  # CONCURRENTLY both ways, NO TRANSACTION
    assert found(report) == [
        ("error", "goose/00002_widen_note.sql", 5, "down of 00002_widen_note.sql does not restore column "
         "public.t.note's type character varying(50) (it is character varying(100))"),
    ]
    assert report.exit_code() == 1


def test_dbmate_down_that_fails_and_a_migration_without_down(server):
    report = run(server, SAMPLES / "dbmate")
    assert statuses(report) == [("20240101000000_create_t.sql", "restored"), ("20240102000000_add_b.sql", "failed"),
                                ("20240103000000_seed.sql", "no backward part")]
    assert found(report) == [
        ("error", "dbmate/20240102000000_add_b.sql", 7, "down of 20240102000000_add_b.sql fails at line 7: "
         "42703: column \"c\" of relation \"t\" does not exist"),
        ("info", "dbmate/20240103000000_seed.sql", 1, "20240103000000_seed.sql has no '-- migrate:down' section"),
    ]
    assert report.exit_code() == 1


def test_sql_migrate_down_that_drops_more_than_its_up_made(server):
    report = run(server, SAMPLES / "sql-migrate")
    assert statuses(report) == [("1_create_t.sql", "restored"), ("2_note_index.sql", "not restored")]
    assert found(report) == [
        ("error", "sql-migrate/2_note_index.sql", 5, "down of 2_note_index.sql does not restore table public.t"),
        ("error", "sql-migrate/2_note_index.sql", 2, "2_note_index.sql applied again after its down fails at line 2: "
         "42P01: relation \"t\" does not exist"),
    ]


def test_diesel_round_trips_outside_a_transaction_and_after_a_rebuild(server):
    report = run(server, SAMPLES / "diesel")
    assert statuses(report) == [("2024-01-01-000000_create_t/up.sql", "restored"),
                                ("2024-01-02-000000_note_index/up.sql", "restored"),  # run_in_transaction = false
                                ("2024-01-03-000000_a_index/up.sql", "not restored"),
                                ("2024-01-04-000000_add_b/up.sql", "restored")]
    assert found(report) == [
        ("error", "diesel/2024-01-03-000000_a_index/down.sql", 1,
         "down of 2024-01-03-000000_a_index/down.sql leaves index public.t_a_idx behind"),
        ("error", "diesel/2024-01-03-000000_a_index/up.sql", 1, "2024-01-03-000000_a_index/up.sql applied again "
         "after its down fails at line 1: 42P07: relation \"t_a_idx\" already exists"),
    ]


def test_flyway_undo_that_leaves_a_default_behind(server):
    report = run(server, SAMPLES / "flyway")
    assert statuses(report) == [("V1__create_t.sql", "restored"), ("V2__note_default.sql", "not restored"),
                                ("V3__mood.sql", "no backward part")]
    assert found(report) == [
        ("error", "flyway/U2__note_default.sql", 1, "undo of U2__note_default.sql leaves column public.t.note's "
         "default 'none'::character varying behind"),
        ("info", "flyway/V3__mood.sql", 1, "V3__mood.sql has no U3__ undo script"),
    ]
    assert report.exit_code() == 1


def test_sqitch_revert_that_fails_a_verify_script_that_fails_and_a_change_without_revert(server):
    report = run(server, SAMPLES / "sqitch")
    assert statuses(report) == [("create_t", "restored"), ("a_index", "failed"), ("note_check", "failed")]
    assert found(report) == [
        ("error", "sqitch/revert/a_index.sql", 2, "revert of a_index fails at line 2: 42704: index \"t_a_index\" "
         "does not exist"),
        ("error", "sqitch/verify/note_check.sql", 1, "verify script of note_check fails after it is deployed, at "
         "line 1: 22012: division by zero"),
        ("info", "sqitch/deploy/note_check.sql", 1, "revert of note_check does not exist: without a revert script, "
         "sqitch cannot revert the change"),
    ]
    assert report.exit_code() == 1


def test_alembic_downgrade_that_does_not_restore_a_type_one_that_fails_and_one_declared_irreversible(server):
    report = run(server, SAMPLES / "alembic")
    assert statuses(report) == [("1a", "restored"), ("2b", "not restored"), ("3c", "irreversible"),
                                ("4d", "restored"),  # autocommit_block + CONCURRENTLY, both ways
                                ("5e", "failed"),
                                ("6f", "restored")]  # `pass` both ways, as a merge revision: nothing to undo
    found_ = found(report)
    assert found_[:2] == [
        ("error", "alembic/migrations/versions/2b_widen_note.py", 18, "downgrade() of 2b does not restore column "
         "public.t.note's type character varying(50) (it is character varying(100))"),
        ("info", "alembic/migrations/versions/3c_backfill.py", 16,
         "downgrade() of 3c does nothing (pass): the revision is declared irreversible"),
    ]
    # drop_constraint(None, ...) cannot be emitted, so Alembic's downgrade stops there; the failure
    # the server reports next says so (and that line's note is not repeated on its own).
    ((severity2, path2, line2, failure),) = found_[2:]
    assert (severity2, path2, line2) == ("error", "alembic/migrations/versions/5e_parent.py", 21)
    assert failure.startswith("downgrade() of 5e fails at line 21: 42710: constraint \"t_parent_id_fkey\" for "
                              "relation \"t\" already exists (line 20 was not rendered: op.drop_constraint() could "
                              "not be rendered (CompileError:")
    assert report.exit_code() == 1


def test_django_reverse_operations(server):
    """The one Django case (its rendering is slow): a reverse_sql that does not restore a type, an
    atomic = False migration (DROP INDEX CONCURRENTLY back), RunPython.noop, an irreversible RunSQL."""
    report = run(server, SAMPLES / "django_inventory")
    assert statuses(report) == [("inventory.0001_initial", "restored"), ("inventory.0002_widen_sku", "not restored"),
                                ("inventory.0003_sku_index", "restored"), ("inventory.0004_sku_check", "irreversible")]
    migrations = "django_inventory/inventory/migrations"
    assert found(report) == [
        ("error", f"{migrations}/0002_widen_sku.py", 7, "backwards of inventory.0002_widen_sku does not restore "
         "column public.inventory_item.sku's type character varying(20) (it is character varying(30))"),
        ("info", f"{migrations}/0003_sku_index.py", 15, "backwards of inventory.0003_sku_index: RunPython's reverse "
         "is RunPython.noop: the rows its forward code changed stay as they are"),
        ("info", f"{migrations}/0004_sku_check.py", 7, "backwards of inventory.0004_sku_check is refused by Django: "
         "Operation <RunSQL \"ALTER TABLE inventory_item ADD CONSTRAINT sku_not_blank CHECK (sku <> '')\"> in "
         "inventory.0004_sku_check is not reversible"),
    ]
    assert report.exit_code() == 1


def test_every_round_trip_restoring_the_schema_passes(server, tmp_path):
    for name in ("000001_create_t", "000003_add_b"):
        for direction in ("up", "down"):
            file = f"{name}.{direction}.sql"
            (tmp_path / file).write_text((SAMPLES / "golang-migrate" / file).read_text())
    report = run(server, tmp_path)
    assert statuses(report) == [("000001_create_t.up.sql", "restored"), ("000003_add_b.up.sql", "restored")]
    assert report.notes() == [] and report.exit_code() == 0


def test_from_and_to_choose_the_round_trips(server):
    report = run(server, SAMPLES / "goose", start="2", stop="00002")
    assert statuses(report) == [("00001_create_t.sql", "forward only"), ("00002_widen_note.sql", "not restored")]
    with pytest.raises(VerifyError, match="--from 9: no migration has this version"):
        run(server, SAMPLES / "goose", start="9")


def test_since_round_trips_only_the_migrations_added(server, tmp_path):
    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=tmp_path,
                       check=True, capture_output=True)

    for file in sorted((SAMPLES / "golang-migrate").iterdir())[:4]:  # 000001 and 000002
        (tmp_path / file.name).write_text(file.read_text())
    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "first")
    for file in ("000003_add_b.up.sql", "000003_add_b.down.sql"):
        (tmp_path / file).write_text((SAMPLES / "golang-migrate" / file).read_text())
    report = run(server, tmp_path, since="HEAD")
    assert statuses(report) == [("000001_create_t.up.sql", "forward only"), ("000002_add_index.up.sql", "forward only"),
                                ("000003_add_b.up.sql", "restored")]
    assert report.exit_code() == 0


def test_a_backward_part_that_does_not_parse_is_an_input_error(server, tmp_path):
    (tmp_path / "000001_a.up.sql").write_text("CREATE TABLE a (id int);\n")
    (tmp_path / "000001_a.down.sql").write_text("DROP TABLE a;\nDROP TABEL b;\n")
    (tmp_path / "000002_b.up.sql").write_text("CREATE TABLE b (id int);\n")
    (tmp_path / "000002_b.down.sql").write_text("DROP TABLE b;\n")
    report = run(server, tmp_path)
    assert [(p.path, p.line) for p in report.problems] == [(str(tmp_path / "000001_a.down.sql"), 2)]
    assert "syntax error" in report.problems[0].message
    assert statuses(report) == [("000001_a.up.sql", "not verified"), ("000002_b.up.sql", "restored")]
    assert report.exit_code() == 2


def test_command_line_formats_and_bad_input(capsys, tmp_path):
    # No migration to read: an input error, before any server is needed.
    assert main(["verify", str(tmp_path / "missing"), "--format", "json", "--backend", "dsn",
                 "--dsn", "postgresql:///nowhere"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["exit_code"] == 2 and "path does not exist" in out["problems"][0]["message"]
    assert main(["verify", str(SAMPLES / "goose"), "--from", "9", "--backend", "dsn", "--dsn", "postgresql:///x"]) == 2
    assert "--from 9: no migration has this version" in capsys.readouterr().err


def test_reports_render_the_findings(server):
    from migrasafe.verify.report import render

    report = run(server, SAMPLES / "flyway")
    text = render(report, "text")
    assert (f"{SAMPLES}/flyway/U2__note_default.sql:1: error: undo of U2__note_default.sql leaves column "
            f"public.t.note's default 'none'::character varying behind") in text
    assert text.rstrip().endswith("2 round trips: 1 restored the schema, 1 did not; 1 no backward part — verdict: fail")
    data = json.loads(render(report, "json"))
    trip = data["histories"][0]["round_trips"][1]
    assert trip["status"] == "not restored" and trip["backward"].endswith("U2__note_default.sql")
    assert trip["findings"][0]["difference"] == {
        "kind": "column", "identity": "public.t.note", "change": "changed", "attribute": "default",
        "before": None, "after": "'none'::character varying", "message": trip["findings"][0]["difference"]["message"]}
    markdown = render(report, "markdown")
    assert markdown.startswith("### migrasafe verify: fail")
    assert "| `V2__note_default.sql` | `" in markdown and "| not restored |" in markdown



def test_a_failing_statement_ends_its_part_and_rolls_its_transaction_back(server, tmp_path):
    """As its tool would: the statements before the failure are undone, the ones after never run.
    The replay's runner, which measures every statement, goes on by default."""
    import psycopg

    from migrasafe.sources.plan import Plan
    from migrasafe.verify.apply import Applier

    (tmp_path / "1_a.sql").write_text("-- +goose Up\nCREATE TABLE a (id int);\nCREATE TABLE a (id int);\n"
                                      "CREATE TABLE b (id int);\n")
    (tmp_path / "2_b.sql").write_text("-- +goose Up\nCREATE TABLE c (id int);\nSELECT 1/0;\nCREATE TABLE d (id int);\n"
                                      "-- +goose NO TRANSACTION\n")
    plan = Plan(Config(cache=False))
    plan.add(str(tmp_path))
    wrapped, unwrapped = plan.migrations()
    with server.database() as conninfo, psycopg.connect(conninfo, autocommit=True) as conn:
        applier = Applier(conninfo, Config(), local_server=True)
        failure = applier.apply(wrapped).failure
        assert (failure.line, failure.error) == (3, '42P07: relation "a" already exists')
        assert applier.apply(unwrapped).failure.line == 3
        tables = {name for (name,) in conn.execute("SELECT relname FROM pg_class WHERE relkind = 'r' "
                                                   "AND relnamespace = 'public'::regnamespace")}
    assert tables == {"c"}  # a rolled back with its file's transaction, b and d never ran, c committed alone


def test_a_rebuild_starts_from_the_last_checkpoint(server, monkeypatch):
    """After 000003's re-application fails, the database is made again from a copy kept before it,
    not from the first migration: the findings are the same, fewer parts are applied."""
    from migrasafe.verify import apply, runner

    applied = []
    original = apply.Applier.apply
    monkeypatch.setattr(apply.Applier, "apply", lambda self, m: applied.append(m.path) or original(self, m))
    every = {}
    for checkpoint_every in (2, 100):
        monkeypatch.setattr(runner, "CHECKPOINT_EVERY", checkpoint_every)
        applied.clear()
        report = run(server, SAMPLES / "diesel")
        every[checkpoint_every] = (statuses(report), found(report), len(applied))
    assert every[2][:2] == every[100][:2]
    assert every[2][1][0][3] == "down of 2024-01-03-000000_a_index/down.sql leaves index public.t_a_idx behind"
    assert (every[2][2], every[100][2]) == (13, 15)  # the rebuild applies 000003 alone, or 000001 to 000003


def test_differences_are_said_object_by_object():
    from migrasafe.snapshot import Difference
    from migrasafe.verify.outcome import not_restored

    label = "down of 2_mood.down.sql"
    said = [not_restored(label, d) for d in (
        Difference("enum", "public.mood", "added", "", "value", None, "meh"),
        Difference("enum", "public.mood", "removed", "", "value", "ok", None),
        Difference("table", "public.t", "removed", ""),
        Difference("column", "public.t.a", "changed", "", "nullability", "NOT NULL", "nullable"),
        Difference("column", "public.t.a", "changed", "", "default", "0", None),
    )]
    assert said == [
        "down of 2_mood.down.sql leaves value 'meh' of enum public.mood behind",
        "down of 2_mood.down.sql does not restore value 'ok' of enum public.mood",
        "down of 2_mood.down.sql does not restore table public.t",
        "down of 2_mood.down.sql does not restore column public.t.a's nullability NOT NULL (it is nullable)",
        "down of 2_mood.down.sql does not restore column public.t.a's default 0 (it has none)",
    ]
