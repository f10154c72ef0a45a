"""The replay's pure parts: durations, budgets, stats files, settings, fits, sizes, the command line."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from migrasafe.replay.budget import Budgets, BudgetError, judge, parse_duration_ms
from migrasafe.replay.extrapolate import fit, growth_of, predict
from migrasafe.replay.run import plan_sizes, scaled_rows
from migrasafe.replay.settings import SettingsError, parse_count, parse_sizes, validate_table
from migrasafe.replay.stats import ProductionRows, StatsError, read_stats_file

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("text, ms", [("2s", 2000), ("500ms", 500), ("3min", 180_000), ("1.5", 1500), (4, 4000)])
def test_durations(text, ms):
    assert parse_duration_ms(text, "x") == ms


@pytest.mark.parametrize("bad", ["soon", "-1s", True, "2 weeks"])
def test_bad_durations(bad):
    with pytest.raises(BudgetError):
        parse_duration_ms(bad, "x")


def test_budget_judgement():
    assert judge(2001, 2000) == "error"
    assert judge(1700, 2000) == "warning"
    assert judge(1500, 2000) is None
    assert Budgets.from_table({"migration": "1min"}, "t").migration_ms == 60_000
    with pytest.raises(BudgetError, match="unknown budget"):
        Budgets.from_table({"total": "1s"}, "t")


def test_stats_csv(tmp_path):
    stats = tmp_path / "stats.csv"
    stats.write_text('table,rows\npublic.orders,5000000\n"app"."Users",1200\ncountries,250\n')
    production = read_stats_file(str(stats), default=0)
    assert production.rows("public", "orders") == 5_000_000
    assert production.rows("app", "Users") == 1_200
    assert production.rows("geo", "countries") == 250  # unqualified matches any schema
    assert production.rows("public", "new_table") == 0
    assert production.largest == 5_000_000


@pytest.mark.parametrize("text, message", [("orders\n", "two columns"), ("table,rows\norders,many\n", "whole number"), ("", "no table")])
def test_bad_stats_csv(tmp_path, text, message):
    stats = tmp_path / "stats.csv"
    stats.write_text(text)
    with pytest.raises(StatsError, match=message):
        read_stats_file(str(stats), default=0)


def test_counts_and_sizes():
    assert parse_count("100k", "x") == 100_000 and parse_count("2M", "x") == 2_000_000
    assert parse_count("1_000", "x") == 1000 and parse_count("1e6", "x") == 1_000_000
    assert parse_sizes("10k,100k", "x") == (10_000, 100_000)
    with pytest.raises(SettingsError):
        parse_sizes("0", "x")
    with pytest.raises(SettingsError):
        parse_count("lots", "x")


def test_settings_table():
    validate_table({"backend": "docker", "rows": "5M", "budgets": {"access_exclusive": "1s"}}, "t")
    for bad, message in [({"backend": "podman"}, "backend"), ({"colour": 1}, "unknown"),
                         ({"budgets": {"access_exclusive": "x"}}, "duration"), ({"probes": "yes"}, "probes")]:
        with pytest.raises(SettingsError, match=message):
            validate_table(bad, "t")


def test_sizes_are_capped_at_production_and_tables_scaled():
    production = ProductionRows(default=0, tables={"public.big": 1_000_000, "public.small": 10_000})
    assert plan_sizes((10_000, 100_000), production) == [10_000, 100_000]
    assert plan_sizes((10_000, 100_000), ProductionRows(default=50_000)) == [10_000, 50_000]
    assert scaled_rows(1_000_000, 100_000, 1_000_000) == 100_000
    assert scaled_rows(10_000, 100_000, 1_000_000) == 1_000
    assert scaled_rows(0, 100_000, 1_000_000) == 0


def test_a_line_is_recovered_and_extrapolated():
    points = [(10_000, 5.0 + 0.002 * 10_000), (20_000, 5.0 + 0.002 * 20_000), (40_000, 5.0 + 0.002 * 40_000)]
    model = fit(points)
    assert math.isclose(model.fixed_ms, 5.0) and math.isclose(model.per_row_ms, 0.002)
    assert math.isclose(model.predict(1_000_000), 2005.0)


def test_index_builds_grow_as_n_log_n():
    def cost(n):
        return 1.0 + 1e-5 * n * math.log2(n)

    points = [(n, cost(n)) for n in (10_000, 30_000)]
    ms, model = predict(points, 1_000_000, "n log n")
    assert math.isclose(ms, cost(1_000_000), rel_tol=1e-9)
    assert "log2" in model.describe()


def test_noise_without_growth_is_a_constant_and_a_measured_size_is_taken_as_it_is():
    model = fit([(1_000, 3.0), (10_000, 2.5)])
    assert model.kind == "constant" and model.predict(10**9) == pytest.approx(2.75)
    ms, model = predict([(1_000, 3.0), (5_000, 9.0)], 5_000)
    assert ms == 9.0 and model.kind == "measured"


def test_growth_follows_the_statement():
    from migrasafe.parse import split_statements

    kinds = [growth_of(s.node) for s in split_statements(
        "CREATE INDEX i ON t (a); ALTER TABLE t ADD PRIMARY KEY (id); ALTER TABLE t ADD COLUMN b int;"
        " UPDATE t SET a = 1; VACUUM (FULL) t; REINDEX TABLE t;")]
    assert kinds == ["n log n", "n log n", "linear", "linear", "n log n", "n log n"]


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "migrasafe", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("args, message", [
    (["--rows", "lots"], "--rows"),
    (["--sizes", "0"], "--sizes"),
    (["--backend", "dsn"], "needs --dsn"),
    (["--statement-timeout", "forever"], "--statement-timeout"),
    (["--stats", "no-such-file.csv"], "cannot read"),
])
def test_bad_options_exit_2_with_a_message(args, message):
    done = run_cli("replay", "examples/flyway", *args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_bad_replay_config_exits_2(tmp_path):
    (tmp_path / "migrasafe.toml").write_text('[replay]\nbackend = "podman"\n')
    (tmp_path / "001_a.sql").write_text("SELECT 1;\n")
    done = run_cli("replay", str(tmp_path))
    assert done.returncode == 2 and "replay.backend must be one of" in done.stderr


def test_replay_is_skipped_for_input_that_does_not_parse(tmp_path):
    (tmp_path / "001_a.sql").write_text("CREATE TABLE (;\n")
    done = run_cli("replay", str(tmp_path))
    assert done.returncode == 2 and "could not be read or parsed" in done.stderr
    assert f"{tmp_path / '001_a.sql'}:1: syntax error" in done.stderr  # which input, where
    missing = run_cli("replay", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and f"{tmp_path / 'nowhere'}:1: path does not exist" in missing.stderr


def test_check_replay_option_is_there():
    done = run_cli("check", "--help")
    assert "--replay" in done.stdout and "--backend" in done.stdout


def test_progress_line_on_a_terminal_only():
    import io

    from migrasafe.replay.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    shown, hidden = Terminal(), io.StringIO()
    for stream in (shown, hidden):
        progress = Progress(stream=stream)
        progress.set_prefix("replay 1/2 ")
        progress.step("seeding public.orders", 50, 100, force=True)
        progress.clear()
    assert "replay 1/2 [############............]  50% seeding public.orders" in shown.getvalue()
    assert shown.getvalue().endswith("\r\x1b[2K")
    assert hidden.getvalue() == ""
