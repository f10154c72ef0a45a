"""Paths that cannot be read as migrations: each is reported with its path (exit 2), never skipped
silently, never waited on, and the other migrations are still checked."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from migrasafe.cli import main
from project_files import write

FLYWAY = {"V1__create.sql": "CREATE TABLE t (a int);\n", "V3__index.sql": "CREATE INDEX t_a ON t (a);\n"}


def check_json(capsys, *paths):
    code = main(["check", "--format", "json", *map(str, paths)])
    out = capsys.readouterr()
    return code, json.loads(out.out), out.err


def input_errors(data):
    found = [(f["path"], f["message"]) for f in data["findings"] if f["rule"] == "MS099"]
    for m in data["migrations"]:
        found.extend((m["path"], f["message"]) for f in m["findings"] if f["rule"] == "MS099")
    return found


def test_a_symlink_loop_named_is_an_input_error(tmp_path, capsys):
    loop = tmp_path / "loop.sql"
    loop.symlink_to(loop)
    write(tmp_path, {"m/1_a.sql": "SELECT 1;\n"})
    code, data, _ = check_json(capsys, loop, tmp_path / "m")
    assert code == 2
    assert input_errors(data) == [(str(loop), f"a symbolic link loop: {loop}")]
    assert [Path(m["path"]).name for m in data["migrations"]] == ["1_a.sql"]


def test_a_dangling_link_named_is_an_input_error(tmp_path, capsys):
    link = tmp_path / "gone.sql"
    link.symlink_to(tmp_path / "nowhere.sql")
    code, data, _ = check_json(capsys, link)
    assert code == 2
    assert "a symbolic link to a missing file" in input_errors(data)[0][1]


def test_a_fifo_named_is_never_opened(tmp_path, capsys):
    fifo = tmp_path / "V2__pipe.sql"
    os.mkfifo(fifo)
    code, data, _ = check_json(capsys, fifo)  # would block forever if it were opened for reading
    assert code == 2
    assert "not a regular file" in input_errors(data)[0][1]


def test_a_device_named_is_an_input_error(capsys):
    code, data, _ = check_json(capsys, "/dev/null")
    assert code == 2
    assert input_errors(data) == [("/dev/null", "not a regular file (a pipe, socket or device), never opened: /dev/null")]


def test_a_fifo_with_a_migration_name_inside_a_flyway_tree(tmp_path, capsys):
    write(tmp_path, FLYWAY)
    os.mkfifo(tmp_path / "V2__pipe.sql")
    code, data, _ = check_json(capsys, tmp_path)
    assert code == 2
    assert [Path(p).name for p, _ in input_errors(data)] == ["V2__pipe.sql"]
    flagged = {f["rule"] for m in data["migrations"] for s in m["statements"] for f in s["findings"]}
    assert "MS001" in flagged  # V3 is still checked


def test_a_dangling_link_and_a_link_loop_inside_a_folder(tmp_path, capsys):
    write(tmp_path, {"1_a.sql": "CREATE TABLE t (a int);\n"})
    (tmp_path / "2_b.sql").symlink_to(tmp_path / "missing.sql")
    (tmp_path / "3_c.sql").symlink_to(tmp_path / "3_c.sql")
    code, data, _ = check_json(capsys, tmp_path)
    assert code == 2
    errors = dict((Path(p).name, m) for p, m in input_errors(data))
    assert "a symbolic link to a missing file" in errors["2_b.sql"]
    assert "a symbolic link loop" in errors["3_c.sql"]
    assert [Path(m["path"]).name for m in data["migrations"]] == ["1_a.sql"]
    assert {Path(s["path"]).name for s in data["skipped"]} == {"2_b.sql", "3_c.sql"}


def without_permission_override(command: list[str]) -> list[str]:
    """root reads every file whatever its mode; run without that capability so modes apply."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to test unreadable folders as root"
    drop = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={drop}", f"--inh-caps={drop}", *command]


def run_check(*paths) -> tuple[int, dict]:
    command = without_permission_override([sys.executable, "-m", "migrasafe", "check", "--format", "json",
                                           *map(str, paths)])
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def test_an_unreadable_sub_folder_of_a_flyway_tree(tmp_path):
    write(tmp_path, {**FLYWAY, "releases/V2__more.sql": "CREATE TABLE u (a int);\n"})
    (tmp_path / "releases").chmod(0)
    try:
        code, data = run_check(tmp_path)
    finally:
        (tmp_path / "releases").chmod(0o755)
    assert code == 2
    (error,) = input_errors(data)
    assert error[0].endswith("releases") and "cannot list folder" in error[1] and "not checked" in error[1]
    assert [Path(m["path"]).name for m in data["migrations"]] == ["V1__create.sql", "V3__index.sql"]


def test_an_unlistable_folder_named(tmp_path):
    folder = write(tmp_path / "m", {"1_a.sql": "SELECT 1;\n"})
    write(tmp_path / "other", {"1_b.sql": "SELECT 1;\n"})
    folder.chmod(0o311)  # enter, but not list
    try:
        code, data = run_check(folder, tmp_path / "other")
    finally:
        folder.chmod(0o755)
    assert code == 2
    assert input_errors(data)[0][0] == str(folder) and "cannot list folder" in input_errors(data)[0][1]
    assert [Path(m["path"]).name for m in data["migrations"]] == ["1_b.sql"]


def test_a_listable_but_unreadable_migration(tmp_path):
    folder = write(tmp_path, {"1_a.sql": "SELECT 1;\n", "2_b.sql": "CREATE TABLE t (a int);\n"})
    (folder / "1_a.sql").chmod(0)
    try:
        code, data = run_check(folder)
    finally:
        (folder / "1_a.sql").chmod(0o644)
    assert code == 2
    assert [Path(p).name for p, _ in input_errors(data)] == ["1_a.sql"]
    assert "Permission denied" in input_errors(data)[0][1]
    assert [Path(m["path"]).name for m in data["migrations"]] == ["1_a.sql", "2_b.sql"]


def test_a_path_with_no_migration_is_never_a_pass(tmp_path, capsys):
    write(tmp_path, {"README.md": "nothing here\n", "seeds/seed.sql": "INSERT INTO t VALUES (1);\n"})
    code, data, _ = check_json(capsys, tmp_path)
    assert code == 2
    assert data["migrations"] == [] and data["verdict"] != "pass"
    (error,) = input_errors(data)
    assert error[0] == str(tmp_path) and error[1].startswith(f"no migration found in {tmp_path}; looked for ")
    looked_for = error[1].split("; looked for ", 1)[1]
    for layout in ("Flyway (V<version>__<name>.sql", "goose", "sql-migrate", "diesel", "Drizzle", "plain SQL (*.sql)",
                   "Alembic (alembic.ini", "dbconfig.yml, diesel.toml or flyway.conf"):
        assert layout.lower() in looked_for.lower(), layout
    # The seeds folder is data: listed as not read, never checked as the history that was looked for.
    assert [s["path"] for s in data["skipped"]] == [str(tmp_path / "seeds" / "seed.sql")]


def test_a_fifo_among_the_files_detection_sniffs_is_never_opened(tmp_path):
    # A Liquibase folder: detection and the reader look at the start of every .sql file below it.
    write(tmp_path, {"master.sql": "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE t (a int);\n",
                     "more/0002_b.sql": "CREATE TABLE u (a int);\n"})
    fifo = tmp_path / "0003_pipe.sql"
    os.mkfifo(fifo)
    os.mkfifo(tmp_path / "more" / "0004_pipe.sql")  # below: not a file Liquibase runs here
    command = [sys.executable, "-m", "migrasafe", "check", "--format", "json", "--no-cache", str(tmp_path)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError("the check blocked on a FIFO") from None
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    data = json.loads(result.stdout)
    assert result.returncode == 2
    assert input_errors(data) == [
        (str(fifo), "cannot read this migration: not a regular file (a pipe, socket or device): never opened")]
    assert [Path(m["path"]).name for m in data["migrations"]] == ["master.sql"]


def test_sniff_never_opens_a_device():
    from migrasafe.sources.listing import sniff, sniffing_once

    assert sniff(Path("/dev/zero")) == ""
    with sniffing_once():
        assert sniff(Path("/dev/zero"), 512) == ""
