"""The cache is invisible in results: every corpus case gives the same bytes with and without it,
cold and warm; a run after one new migration analyses that one only; damaged or foreign entries
are ignored; entries are data, never code."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from migrasafe import check as check_module
from migrasafe.cache.store import Store
from migrasafe.cli import main

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
CASES = sorted(p / "migrations" for p in CORPUS.glob("*/*") if (p / "migrations").is_dir())


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("MIGRASAFE_CACHE_DIR", str(folder))
    monkeypatch.delenv("MIGRASAFE_NO_CACHE", raising=False)
    return folder


def output(capsys, *argv) -> tuple[int, str]:
    code = main(["check", "--format", "json", *map(str, argv)])
    return code, capsys.readouterr().out


def counting_reads(monkeypatch) -> list[str]:
    """The migrations that were read and parsed rather than loaded from the cache."""
    read: list[str] = []
    realize = check_module.realize

    def counted(migration):
        if migration.meta.get("build") is not None:
            read.append(Path(migration.path).name)
        return realize(migration)

    monkeypatch.setattr(check_module, "realize", counted)
    return read


def test_every_corpus_case_gives_the_same_bytes_with_and_without_the_cache(cache_dir, capsys):
    assert len(CASES) > 100
    for case in CASES:
        uncached = output(capsys, "--no-cache", case)
        cold = output(capsys, case)
        warm = output(capsys, case)
        assert cold == uncached, case
        assert warm == uncached, case
    assert any((cache_dir / "result").rglob("*.json"))


def write(folder: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


HISTORY = {
    "1_create.sql": "CREATE TABLE orders (id bigint PRIMARY KEY, note varchar(50), customer_id bigint);\n",
    "2_fill.sql": "INSERT INTO orders VALUES (1, 'a', 1);\n",
    "3_widen.sql": "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN note TYPE varchar(100);\n",
}


def test_a_new_migration_is_the_only_one_analysed(cache_dir, tmp_path, capsys, monkeypatch):
    folder = write(tmp_path / "m", HISTORY)
    read = counting_reads(monkeypatch)
    output(capsys, folder)
    assert read == ["1_create.sql", "2_fill.sql", "3_widen.sql"]
    read.clear()
    assert output(capsys, folder)[0] == 0 and read == []  # nothing changed: nothing parsed
    write(folder, {"4_index.sql": "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"})
    code, warm = output(capsys, folder)
    assert read == ["4_index.sql"]  # from the catalog the previous run left after 3_widen.sql
    assert code == 1 and "MS001" in warm  # the index is on a live table: the catalog was right
    assert (code, warm) == output(capsys, "--no-cache", folder)


def test_an_edit_in_mid_history_analyses_from_there(cache_dir, tmp_path, capsys, monkeypatch):
    folder = write(tmp_path / "m", {**HISTORY, "4_index.sql": "CREATE INDEX i ON orders (customer_id);\n"})
    output(capsys, folder)
    read = counting_reads(monkeypatch)
    write(folder, {"2_fill.sql": "INSERT INTO orders VALUES (2, 'b', 2);\n"})
    result = output(capsys, folder)
    # 1_create.sql is read again to rebuild the catalog before 2_fill.sql; 3 and 4 follow the edit.
    assert read == ["1_create.sql", "2_fill.sql", "3_widen.sql", "4_index.sql"]
    assert result == output(capsys, "--no-cache", folder)


def test_damaged_and_foreign_entries_are_ignored(cache_dir, tmp_path, capsys):
    folder = write(tmp_path / "m", {**HISTORY, "4_index.sql": "CREATE INDEX i ON orders (customer_id);\n"})
    expected = output(capsys, "--no-cache", folder)
    output(capsys, folder)
    entries = sorted(cache_dir.rglob("*.json"))
    assert entries
    for n, entry in enumerate(entries):
        data = json.loads(entry.read_text())
        if n % 3 == 0:
            entry.write_text(entry.read_text()[: len(entry.read_text()) // 2])  # cut short
        elif n % 3 == 1:
            data["key"] = "0" * 64  # another entry's content
            entry.write_text(json.dumps(data))
        else:
            data["format"] = 999  # another version's format
            entry.write_text(json.dumps(data))
    assert output(capsys, folder) == expected
    assert output(capsys, folder) == expected  # and the rewritten entries are good again


def test_an_entry_is_data_not_code(cache_dir, tmp_path, capsys):
    folder = write(tmp_path / "m", HISTORY)
    expected = output(capsys, "--no-cache", folder)
    output(capsys, folder)
    marker = tmp_path / "ran"
    for entry in cache_dir.rglob("*.json"):
        data = json.loads(entry.read_text())
        # A class outside the allow-list, named as a module path, is never looked up or called.
        data["result"] = {"c": "os.system", "f": {"command": f"touch {marker}"}}
        data["catalog"] = {"c": "subprocess.Popen", "f": {"args": ["touch", str(marker)]}}
        entry.write_text(json.dumps(data))
    assert output(capsys, folder) == expected
    assert not marker.exists()


def test_no_cache_writes_nothing(cache_dir, tmp_path, capsys):
    folder = write(tmp_path / "m", HISTORY)
    output(capsys, "--no-cache", folder)
    assert not cache_dir.exists()


def test_the_cache_stays_under_its_limit(tmp_path):
    store = Store(tmp_path / "c", limit_bytes=20_000)
    for n in range(200):
        store.put("result", f"{n:064x}", {"result": "x" * 500})
    store.evict()
    sizes = [p.stat().st_size for p in (tmp_path / "c").rglob("*.json")]
    assert sum(sizes) <= 20_000
    assert store.get("result", f"{199:064x}") is not None  # the newest entries are kept


def test_concurrent_runs_share_the_cache_safely(cache_dir, tmp_path):
    folder = write(tmp_path / "m", {f"{n}_t{n}.sql": f"CREATE TABLE t{n} (a int);\nCREATE INDEX ON t{max(n - 1, 1)} (a);\n"
                                    for n in range(1, 40)})
    env = {**os.environ, "MIGRASAFE_CACHE_DIR": str(cache_dir)}
    command = [sys.executable, "-m", "migrasafe", "check", "--format", "json", str(folder)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, env=env) for _ in range(4)]
    outputs = {run.communicate(timeout=300)[0] for run in runs}
    expected = subprocess.run([*command, "--no-cache"], capture_output=True, env=env, timeout=300).stdout
    assert outputs == {expected}
    assert not list(cache_dir.rglob(".tmp-*"))  # no half-written entry left behind
