"""Size-aware severity: table sizes from a file or a database reweigh size-sensitive findings."""
import json
import uuid

import pytest

from migrasafe import cli
from migrasafe.config import ConfigError, load_config
from migrasafe.sizes import SizesError, TableSize, Thresholds, parse_size, stats_from_dsn

CREATE = (
    "CREATE TABLE countries (code text PRIMARY KEY, name text);\n"
    "CREATE TABLE events (id bigint PRIMARY KEY, kind text);\n"
)
INDEXES = (
    "SET lock_timeout = '2s';\n"
    "CREATE INDEX countries_name_idx ON countries (name);\n"
    "CREATE INDEX events_kind_idx ON events (kind);\n"
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "V1__create.sql").write_text(CREATE)
    (folder / "V2__indexes.sql").write_text(INDEXES)
    return folder


def index_findings(capsys, *argv):
    code = cli.main(["check", "migrations", "--format", "json", "--select", "MS001", *argv])
    data = json.loads(capsys.readouterr().out)
    statements = data["migrations"][1]["statements"]
    by_table = {}
    for statement in statements:
        for finding in statement["findings"]:
            by_table[statement["sql"].split(" ON ")[1].split()[0]] = finding
    return code, by_table


def test_without_stats_nothing_changes(project, capsys):
    code, found = index_findings(capsys)
    assert {t: f["severity"] for t, f in found.items()} == {"countries": "error", "events": "error"}
    assert code == 1


def test_small_table_lowered_to_info_large_one_stays_error(project, capsys):
    (project.parent / "sizes.json").write_text(json.dumps({
        "public.countries": {"rows": 300, "bytes": 49152},
        "events": {"rows": 900_000_000, "bytes": "50GB"},
    }))
    code, found = index_findings(capsys, "--stats", "sizes.json")
    assert found["countries"]["severity"] == "info"
    assert "public.countries has 300 rows, 48 kB: severity lowered from error to info" in found["countries"]["message"]
    assert found["events"]["severity"] == "error"
    assert "public.events has 900,000,000 rows, 50 GB" in found["events"]["message"]
    assert code == 1


def test_large_table_raises_a_lowered_severity(project, capsys):
    (project.parent / "migrasafe.toml").write_text(
        'severity = { MS001 = "warning" }\nstats = "sizes.yaml"\n'
        "[sizes]\nlarge = { bytes = \"1GB\" }\n"
    )
    (project.parent / "sizes.yaml").write_text("events: {bytes: 2GB}\ncountries: {rows: 20000}\n")
    code, found = index_findings(capsys)
    assert found["events"]["severity"] == "error"
    assert "raised from warning to error" in found["events"]["message"]
    # 20,000 rows is neither small (10,000 or fewer) nor large: the configured severity stays.
    assert found["countries"]["severity"] == "warning"


def test_only_size_sensitive_rules_are_reweighed(project, capsys):
    (project / "V3__rename.sql").write_text("ALTER TABLE countries RENAME COLUMN name TO label;\n")
    (project.parent / "sizes.json").write_text(json.dumps({"countries": {"rows": 3}}))
    cli.main(["check", "migrations", "--format", "json", "--stats", "sizes.json"])
    data = json.loads(capsys.readouterr().out)
    rename = [f for s in data["migrations"][2]["statements"] for f in s["findings"] if f["rule"] == "MS040"]
    assert rename and rename[0]["severity"] == "error"


def test_a_table_missing_from_the_stats_keeps_its_severity(project, capsys):
    (project.parent / "sizes.json").write_text(json.dumps({"other": {"rows": 3}}))
    _, found = index_findings(capsys, "--stats", "sizes.json")
    assert {f["severity"] for f in found.values()} == {"error"}


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2]", "expected a mapping of table name to rows and bytes"),
        ('{"t": {"rows": "many"}}', "rows must be a number of rows"),
        ('{"t": {"bytes": "12 parsecs"}}', "must be a size such as 10GB"),
        ('{"t": {"rows": 1, "pages": 3}}', "expected {rows: N, bytes: N}"),
        ("{unclosed", "neither JSON nor YAML"),
    ],
)
def test_bad_stats_files_are_usage_errors(project, capsys, content, message):
    (project.parent / "sizes.json").write_text(content)
    assert cli.main(["check", "migrations", "--stats", "sizes.json"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_stats_and_stats_from_together_are_refused(project, capsys):
    (project.parent / "sizes.json").write_text("{}")
    assert cli.main(["check", "migrations", "--stats", "sizes.json", "--stats-from", "postgresql:///x"]) == 2
    assert "not both" in capsys.readouterr().err


@pytest.mark.parametrize(
    "table, message",
    [
        ('[sizes]\nsmall = { rows = "few" }\n', "sizes.small.rows must be a number of rows"),
        ("[sizes]\nhuge = { rows = 1 }\n", "unknown key(s) in sizes: huge"),
        ("[sizes]\nsmall = { rows = 100 }\nlarge = { rows = 10 }\n", "sizes.small must be below sizes.large"),
        ('stats = 3\n', "stats must be a file name"),
    ],
)
def test_bad_size_settings_name_the_key(tmp_path, table, message):
    path = tmp_path / "migrasafe.toml"
    path.write_text(table)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(path)


def test_parse_size_units():
    assert parse_size("10MB", "x") == 10 * 1024**2
    assert parse_size("1.5 GB", "x") == int(1.5 * 1024**3)
    assert parse_size("300kB", "x") == 300 * 1024
    assert parse_size("2g", "x") == 2 * 1024**3
    assert parse_size(4096, "x") == 4096
    with pytest.raises(SizesError):
        parse_size(True, "x")
    with pytest.raises(SizesError):
        parse_size(-1, "x")


def test_thresholds_small_needs_every_known_figure_small():
    limits = Thresholds()
    assert limits.is_small(TableSize(rows=300))
    assert not limits.is_small(TableSize(rows=300, bytes=11 * 1024**2))
    assert not limits.is_small(TableSize())
    assert limits.is_large(TableSize(rows=5, bytes=10 * 1024**3))


# --- sizes read from a real server -----------------------------------------------------------


@pytest.fixture
def database(pg_server):
    psycopg = pytest.importorskip("psycopg", reason="pip install -e '.[test]' installs psycopg")
    from psycopg.conninfo import make_conninfo

    name = f"sizes_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.uri, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    dsn = make_conninfo(pg_server.uri, dbname=name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE countries (code text PRIMARY KEY, name text)")
        conn.execute("INSERT INTO countries SELECT 'c' || i, 'name ' || i FROM generate_series(1, 300) i")
        conn.execute("CREATE TABLE events (id bigint PRIMARY KEY, kind text)")
        conn.execute("INSERT INTO events SELECT i, 'kind ' || (i % 7) FROM generate_series(1, 20000) i")
        conn.execute("CREATE TABLE logs (at date NOT NULL, line text) PARTITION BY RANGE (at)")
        conn.execute("CREATE TABLE logs_2024 PARTITION OF logs FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')")
        conn.execute("CREATE TABLE logs_2025 PARTITION OF logs FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')")
        conn.execute("INSERT INTO logs SELECT '2024-06-01'::date + (i % 400), 'x' FROM generate_series(1, 1000) i")
        conn.execute("CREATE SCHEMA app")
        conn.execute("CREATE TABLE app.users (id int)")
        conn.execute("ANALYZE")
    yield dsn
    with psycopg.connect(pg_server.uri, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)" if pg_server.major >= 13 else f"DROP DATABASE {name}")


def test_stats_from_a_real_server(database):
    sizes = stats_from_dsn(database)
    assert sizes["public.countries"].rows == 300
    assert sizes["public.events"].rows == 20000
    assert sizes["public.events"].bytes > sizes["public.countries"].bytes > 0
    assert sizes["public.logs"].rows == 1000
    assert sizes["public.logs"].bytes == sizes["public.logs_2024"].bytes + sizes["public.logs_2025"].bytes
    assert sizes["app.users"].rows == 0
    assert not any(name.startswith(("pg_catalog.", "information_schema.")) for name in sizes)


def test_check_with_stats_from_dsn(database, project, capsys):
    (project.parent / "migrasafe.toml").write_text(
        'severity = { MS001 = "warning" }\n[sizes]\nsmall = { rows = 1000 }\nlarge = { rows = 10000 }\n'
    )
    code, found = index_findings(capsys, "--stats-from", database)
    assert found["countries"]["severity"] == "info"
    assert found["events"]["severity"] == "error"
    assert "public.events has 20,000 rows" in found["events"]["message"]
    assert code == 1


def test_stats_command_writes_a_file_check_reads(database, project, capsys):
    assert cli.main(["stats", database, "-o", "sizes.json"]) == 0
    written = json.loads((project.parent / "sizes.json").read_text())
    assert written["public.countries"]["rows"] == 300
    _, found = index_findings(capsys, "--stats", "sizes.json")
    assert found["countries"]["severity"] == "info"


def test_stats_from_an_unreachable_server_is_a_usage_error(tmp_path, capsys):
    pytest.importorskip("psycopg", reason="pip install -e '.[test]' installs psycopg")
    dsn = f"postgresql://nobody@/postgres?host={tmp_path}&connect_timeout=2"
    assert cli.main(["stats", dsn]) == 2
    err = capsys.readouterr().err
    assert err.startswith("migrasafe: --stats-from: ") and "Traceback" not in err
