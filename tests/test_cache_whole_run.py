"""A whole `check` run replayed from the cache when nothing it depended on changed
(migrasafe/cache/whole_run.py), and run again as soon as something did."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

UNSAFE = "CREATE INDEX orders_note_idx ON orders (note);\n"
SAFE = "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);\n"

# Prints the run's exit code and whether the analysis was loaded, after the check's own output.
PROBE = """
import sys
from migrasafe.cli import main
code = main(sys.argv[1:])
print(json.dumps({"exit": code, "analysed": "migrasafe.check" in sys.modules}), file=sys.stderr)
""".replace("import sys", "import json, sys", 1)


@pytest.fixture
def project(tmp_path):
    # Deep enough that the readers' searches for a project root (a Liquibase master changelog up to
    # six folders above) never list /tmp, which other processes change all the time: a run during
    # which a folder it listed changed is not stored.
    folder = tmp_path / "a" / "b" / "c" / "d" / "app" / "migrations"
    folder.mkdir(parents=True)
    (folder / "V1__orders.sql").write_text("CREATE TABLE orders (id bigint PRIMARY KEY, note text);\n")
    (folder / "V2__index.sql").write_text(UNSAFE)
    cache = tmp_path / "cache"
    # Made beforehand: creating it would change the folder above the project during the first run.
    cache.mkdir()
    return folder, {**os.environ, "MIGRASAFE_CACHE_DIR": str(cache)}


def check(folder: Path, env: dict, *options: str) -> tuple[str, str, dict]:
    done = subprocess.run([sys.executable, "-c", PROBE, "check", str(folder), "--format", "json", *options],
                          capture_output=True, text=True, env=env, timeout=120)
    *stderr, probe = done.stderr.splitlines()
    return done.stdout, "\n".join(stderr), json.loads(probe)


def replayed_after_first_run(folder: Path, env: dict) -> None:
    """Run once, and make sure the run is now replayed: what a test then changes must end that."""
    check(folder, env)
    assert check(folder, env)[2]["analysed"] is False


def age(path: Path, seconds: float = 10) -> None:
    """Make a file look written a while ago, so that it is judged by its status alone."""
    past = time.time() - seconds
    os.utime(path, (past, past))


def rules(stdout: str) -> list[str]:
    migrations = json.loads(stdout)["migrations"]
    return sorted(f["rule"] for m in migrations for s in [m, *m["statements"]] for f in s["findings"])


def test_an_unchanged_run_is_replayed_without_analysis(project):
    folder, env = project
    first = check(folder, env)
    again = check(folder, env)
    assert first[2] == {"exit": 1, "analysed": True}
    assert again[2] == {"exit": 1, "analysed": False}
    assert again[:2] == first[:2]
    assert "MS001" in rules(again[0])


def test_an_edited_migration_is_analysed_again(project):
    folder, env = project
    replayed_after_first_run(folder, env)
    (folder / "V2__index.sql").write_text(SAFE)
    stdout, _, probe = check(folder, env)
    assert probe == {"exit": 0, "analysed": True}
    assert "MS001" not in rules(stdout)


def test_an_edit_that_keeps_size_and_modification_time_is_still_seen(project):
    folder, env = project
    migration = folder / "V2__index.sql"
    for path in folder.iterdir():
        age(path)
    replayed_after_first_run(folder, env)
    before = migration.stat()
    # Same length, same mtime: the change time and inode status still tell.
    migration.write_text(UNSAFE.replace("note", "nope"))
    os.utime(migration, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert migration.stat().st_size == before.st_size
    _, _, probe = check(folder, env)
    assert probe["analysed"] is True


def test_a_migration_added_to_the_folder_is_read(project):
    folder, env = project
    replayed_after_first_run(folder, env)
    (folder / "V3__more.sql").write_text("ALTER TABLE orders ADD COLUMN total numeric NOT NULL DEFAULT 0;\n")
    stdout, _, probe = check(folder, env)
    assert probe["analysed"] is True
    assert [m["path"].rsplit("/", 1)[-1] for m in json.loads(stdout)["migrations"]][-1] == "V3__more.sql"


def test_a_configuration_file_created_in_a_parent_folder_counts(project):
    folder, env = project
    replayed_after_first_run(folder, env)
    (folder.parent / "migrasafe.toml").write_text('ignore = ["MS001"]\n')
    stdout, _, probe = check(folder, env)
    assert probe["analysed"] is True
    assert "MS001" not in rules(stdout)


def test_other_options_are_another_run(project):
    folder, env = project
    replayed_after_first_run(folder, env)
    stdout, _, probe = check(folder, env, "--ignore", "MS001")
    assert probe["analysed"] is True and "MS001" not in rules(stdout)


def test_no_cache_neither_replays_nor_stores(project):
    folder, env = project
    check(folder, env, "--no-cache")
    assert check(folder, env, "--no-cache")[2]["analysed"] is True
    assert check(folder, env)[2]["analysed"] is True  # nothing was stored by the runs without cache


def test_a_migration_changed_while_the_run_read_it_is_not_stored(project):
    folder, env = project
    future = time.time() + 3600  # as if written after the run started
    os.utime(folder / "V2__index.sql", (future, future))
    check(folder, env)
    assert check(folder, env)[2]["analysed"] is True


def test_a_corrupt_entry_is_ignored(project):
    folder, env = project
    first = check(folder, env)
    for entry in (Path(env["MIGRASAFE_CACHE_DIR"]) / "run").rglob("*.json"):
        entry.write_text('{"format": 1, "key": "x", "files": 3}')
    again = check(folder, env)
    assert again[2]["analysed"] is True and again[0] == first[0]
