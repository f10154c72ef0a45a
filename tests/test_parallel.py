"""A run judged in shares by several processes reports exactly what one process reports: every
corpus case split at every point, the shared corpus's histories split at spread points, and the
paths where a share cannot be trusted or sent (an internal error, a child that fails, a result
that is not plain data)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from migrasafe.parallel.shares import share_starts

ROOT = Path(__file__).resolve().parents[1]
CORPUS_CASES = sorted(str(p / "migrations") for p in (ROOT / "corpus").glob("*/*") if (p / "migrations").is_dir())
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
HELPER = Path(__file__).with_name("parallel_equivalence.py")


def compare(*argv) -> str:
    done = subprocess.run([sys.executable, str(HELPER), *map(str, argv)], capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout.strip().splitlines()[-1]


def counts(summary: str) -> dict[str, int]:
    """'compared 3 splits, 3 child processes, ...' -> {'splits': 3, 'child': 3, ...}"""
    return {words.split()[1]: int(words.split()[0]) for words in summary.removeprefix("compared ").split(", ")}


@pytest.mark.xdist_group("parallel")
def test_every_corpus_case_split_at_every_point_gives_the_same_report():
    assert len(CORPUS_CASES) > 100
    found = counts(compare(*CORPUS_CASES))
    assert found["splits"] > 200 and found["results"] >= found["splits"]


@pytest.mark.xdist_group("parallel")
@pytest.mark.skipif(not SHARED_CORPUS.is_dir(), reason=f"shared corpus not present at {SHARED_CORPUS}")
def test_the_shared_corpus_histories_split_at_spread_points_give_the_same_report():
    # Django projects are left out: rendering one takes minutes with the suite's empty cache, and
    # how a history is split does not depend on its layout.
    histories = sorted(p for p in SHARED_CORPUS.iterdir() if p.is_dir() and not any(p.rglob("0001_initial.py")))
    found = counts(compare("--spread", 3, *histories))
    # Histories whose migrations share one session (Alembic's) are judged by one process.
    assert found["splits"] >= 20 and found["results"] > 100


def history(tmp_path: Path, count: int = 5) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_create.sql").write_text("CREATE TABLE orders (id bigint PRIMARY KEY, note text);\n")
    for number in range(2, count + 1):
        (folder / f"{number:03}_change.sql").write_text(
            f"ALTER TABLE orders ADD COLUMN c{number} integer NOT NULL DEFAULT 0;\n"
            f"CREATE INDEX orders_c{number}_idx ON orders (c{number});\n"
            f"ALTER TABLE orders ADD CONSTRAINT orders_c{number}_check CHECK (c{number} >= 0);\n")
    return folder


@pytest.mark.xdist_group("parallel")
def test_after_an_internal_error_the_shares_after_it_are_judged_again(tmp_path):
    folder = history(tmp_path)
    (folder / "003_change.sql").write_text("CREATE TABLE broken_on_purpose (id int);\n"
                                           + (folder / "003_change.sql").read_text())
    found = counts(compare("--break", "broken_on_purpose", folder))
    assert found["histories"] == 1 and found["splits"] > 5


@pytest.mark.xdist_group("parallel")
def test_a_child_that_fails_leaves_its_share_to_the_parent(tmp_path):
    found = counts(compare("--child-fails", history(tmp_path)))
    assert found["child"] >= found["splits"] > 5 and found["results"] == 0


@pytest.mark.xdist_group("parallel")
def test_a_result_that_cannot_be_sent_is_judged_by_the_parent(tmp_path):
    found = counts(compare("--unstorable", "003_change.sql", history(tmp_path)))
    assert found["splits"] > 5 and found["results"] > 0


def test_later_shares_are_shorter_by_what_catching_up_costs():
    starts = share_starts([10] * 1000, 2, catch_up=0.3, min_share=100)
    # Share one: 0.3 * start + (1000 - start) equals share zero's start: about 588 migrations.
    assert starts[0] == 0 and 580 <= starts[1] <= 595
    three = share_starts([10] * 1000, 3, catch_up=0.3, min_share=100)
    sizes = [b - a for a, b in zip(three, three[1:] + [1000])]
    assert sizes == sorted(sizes, reverse=True)
    costs = [0.3 * a + size for a, size in zip(three, sizes)]
    assert max(costs) - min(costs) <= 2


def test_a_run_too_small_for_two_shares_is_one():
    assert share_starts([5] * 50, 2, min_share=400) == [0]
    assert share_starts([5000], 2, min_share=400) == [0]  # one migration cannot be split
    assert share_starts([10] * 1000, 1) == [0]


@pytest.mark.xdist_group("parallel")
def test_what_a_do_block_or_a_create_table_that_did_not_parse_makes_is_caught_up(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    # Each later statement's report depends on what the earlier migrations left: a column's type
    # (a widened varchar is not a rewrite), a table dropped and then made again (its locks are
    # listed), a search_path.
    (folder / "001_block.sql").write_text("CREATE TABLE again (id int);\nDROP TABLE again;\n"
                                          "DO $$ BEGIN CREATE TABLE made_in_block (id int, note varchar(20)); END $$;\n")
    (folder / "002_unparsed.sql").write_text("CREATE TABLE again (id int,, note text);\n")
    (folder / "003_search_path.sql").write_text("CREATE SCHEMA app;\nSET search_path = app;\n"
                                                "CREATE TABLE in_app (id int, note varchar(20));\n")
    (folder / "004_changes.sql").write_text("ALTER TABLE made_in_block ALTER COLUMN note TYPE varchar(50);\n"
                                            "CREATE INDEX ON again (id);\n"
                                            "ALTER TABLE app.in_app ALTER COLUMN note TYPE varchar(50);\n")
    found = counts(compare(folder))
    assert found["splits"] > 3 + 3 and found["results"] > 0


@pytest.mark.xdist_group("parallel")
def test_a_file_split_between_its_statements_keeps_its_settings_and_transactions(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_create.sql").write_text("CREATE TABLE orders (id bigint PRIMARY KEY, note varchar(20));\n")
    (folder / "002_changes.sql").write_text(
        "SET lock_timeout = '1s';\nALTER TABLE orders ADD COLUMN a int;\n"
        "BEGIN;\nALTER TABLE orders ADD COLUMN b int;\nSET LOCAL lock_timeout = '5s';\n"
        "ALTER TABLE orders ALTER COLUMN b SET NOT NULL;\nUPDATE orders SET a = 1;\nCOMMIT;\n"
        "RESET lock_timeout;\nALTER TABLE orders ADD COLUMN c int;\n"
        "DO $$ BEGIN SET lock_timeout = '3s'; END $$;\nALTER TABLE orders ADD COLUMN d int;\n"
        "SET TimeZone = 'UTC';\nALTER TABLE orders ALTER COLUMN note TYPE varchar(40);\n"
        "BEGIN;\nLOCK TABLE orders IN ACCESS EXCLUSIVE MODE;\nUPDATE orders SET a = 2;\nROLLBACK;\n"
        "ALTER TABLE orders ADD COLUMN e int;\n")
    found = counts(compare(folder))
    # A split planned at any statement; one inside a transaction moves on to its end.
    assert found["splits"] == 19 and found["results"] > 0
