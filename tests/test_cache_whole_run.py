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
print(json.dumps({"exit": code, "analysed": "migrasafe.check" in sys.modules,
                  "readers": "migrasafe.sources.registry" in sys.modules}), file=sys.stderr)
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
    probe = json.loads(probe)
    if not probe["analysed"]:
        # A replayed run loads neither the analysis nor the layouts' readers (the command line
        # names them only as --source-format choices, which argparse must not list to build it).
        assert not probe["readers"]
    del probe["readers"]
    return done.stdout, "\n".join(stderr), probe


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


ALEMBIC_REVISION = '''from alembic import op
{imports}
revision = "{rev}"
down_revision = {down}


def upgrade():
    {body}
'''


@pytest.fixture
def alembic_project(tmp_path):
    root = tmp_path / "a" / "b" / "c" / "d" / "app"
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = migrations\nprepend_sys_path = .\n")
    (root / "migrations" / "env.py").write_text("raise RuntimeError('env.py is not run')\n")
    (root / "app_sql.py").write_text(f"INDEX = {UNSAFE.strip()!r}\n")
    (versions / "0001_orders.py").write_text(ALEMBIC_REVISION.format(
        imports="", rev="0001", down=None,
        body='op.execute("CREATE TABLE orders (id bigint PRIMARY KEY, note text)")'))
    (versions / "0002_index.py").write_text(ALEMBIC_REVISION.format(
        imports="from app_sql import INDEX", rev="0002", down='"0001"', body="op.execute(INDEX)"))
    cache = tmp_path / "cache"
    cache.mkdir()
    for path in root.rglob("*"):
        age(path)
    return root, {**os.environ, "MIGRASAFE_CACHE_DIR": str(cache)}


def test_an_alembic_history_is_replayed_until_a_module_its_revision_imports_changes(alembic_project):
    # The revisions are rendered in a child process, which tells what it read: the project's own
    # module counts as much as the revision files.
    root, env = alembic_project
    first = check(root, env)
    again = check(root, env)
    assert first[2] == {"exit": 1, "analysed": True} and "MS001" in rules(first[0])
    assert again[2] == {"exit": 1, "analysed": False}
    assert again[:2] == first[:2]
    (root / "app_sql.py").write_text("INDEX = \"COMMENT ON TABLE orders IS 'orders'\"\n")
    stdout, _, probe = check(root, env)
    assert probe == {"exit": 0, "analysed": True}
    assert "MS001" not in rules(stdout)


def test_a_run_whose_revision_ended_its_process_is_not_stored(alembic_project):
    root, env = alembic_project
    (root / "migrations" / "versions" / "0002_index.py").write_text(ALEMBIC_REVISION.format(
        imports="import os", rev="0002", down='"0001"', body="os._exit(0)"))
    first = check(root, env)
    assert first[2] == {"exit": 2, "analysed": True}
    assert check(root, env)[2] == {"exit": 2, "analysed": True}
