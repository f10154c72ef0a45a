"""Alembic revisions run in a confined child process: a revision that ends, hangs or kills that
process is reported on its own line and the others are still checked; one that reaches for the
network, the user's files or other processes is refused and told; a warning is information.

Runs that could end or hang the process that starts them go through `python -m migrasafe`, so a
regression fails the test instead of ending pytest.
"""
from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from migrasafe.check import run
from migrasafe.config import Config, ConfigError, load_config

ENV_PY = "raise RuntimeError('env.py ran')\n"
# A guard against a regression that hangs, not a speed figure: nothing here is asserted on time.
_HANG_GUARD_SECONDS = 300


def revision(rev: str, down: str | None, body: str, header: str = "") -> str:
    return (f"from alembic import op\nimport sqlalchemy as sa\n{header}\n"
            f"revision = {rev!r}\ndown_revision = {down!r}\n\n\ndef upgrade():\n"
            + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n")


def project(root: Path, revisions: list[tuple[str, str]], settings: str = "") -> Path:
    """Revisions chained in the order given: (file name, upgrade body or whole text)."""
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    if settings:
        (root / "migrasafe.toml").write_text(f"[alembic]\n{settings}\n")
    down = None
    for index, (name, text) in enumerate(revisions, start=1):
        rev = f"{index:04d}"
        if not text.startswith("from alembic"):
            text = revision(rev, down, text)
        (versions / name).write_text(text)
        down = rev
    return root


FIRST = ("0001_accounts.py", 'op.create_table("accounts", sa.Column("id", sa.BigInteger, primary_key=True))')
LAST = ("0003_index.py", 'op.create_index("accounts_id_idx", "accounts", ["id"])')


def check_in_a_new_process(root: Path) -> tuple[int, dict]:
    done = subprocess.run([sys.executable, "-m", "migrasafe", "check", str(root), "--format", "json"],
                          capture_output=True, text=True, cwd=root, timeout=_HANG_GUARD_SECONDS)
    assert "Traceback" not in done.stderr
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}


def findings_of(report: dict, file_name: str) -> list[tuple[str, int, str]]:
    migration = next(m for m in report["migrations"] if m["path"].endswith(file_name))
    found = [(f["rule"], f["line"], f["message"]) for f in migration["findings"]]
    found += [(f["rule"], s["line"], f["message"]) for s in migration["statements"] for f in s["findings"]]
    return found


def rules_of(report: dict, file_name: str) -> set[str]:
    return {rule for rule, _, _ in findings_of(report, file_name)}


@pytest.mark.parametrize("where", ["module", "upgrade"])
def test_os_exit_in_a_revision_is_an_input_error_and_later_revisions_are_checked(tmp_path, where):
    if where == "module":
        text = revision("0002", "0001", "pass", header="import os\nos._exit(0)")
        line = 4
    else:
        text = revision("0002", "0001", 'op.add_column("accounts", sa.Column("a", sa.Text))\nimport os\nos._exit(0)')
        line = 11
    root = project(tmp_path, [FIRST, ("0002_exit.py", text), LAST])
    code, report = check_in_a_new_process(root)
    assert code == 2
    ((rule, at, message),) = [f for f in findings_of(report, "0002_exit.py") if f[0] == "MS099"]
    assert at == line and "os._exit(0)" in message
    assert "MS001" in rules_of(report, "0003_index.py")


@pytest.mark.parametrize("where", ["module", "upgrade"])
def test_sys_exit_in_a_revision_is_an_input_error_at_its_line(tmp_path, where):
    # Alembic's own run ends at a sys.exit() too: the revision never completes, whatever the code.
    if where == "module":
        text = revision("0002", "0001", "pass", header="import sys\nsys.exit(0)")
        line, said = 4, "SystemExit: 0"
    else:
        text = revision("0002", "0001", 'op.add_column("accounts", sa.Column("a", sa.Text))\nimport sys\nsys.exit(0)')
        line, said = 11, "sys.exit(0)"
    root = project(tmp_path, [FIRST, ("0002_exit.py", text), LAST])
    code, report = check_in_a_new_process(root)
    assert code == 2
    ((rule, at, message),) = [f for f in findings_of(report, "0002_exit.py") if f[0] == "MS099"]
    assert at == line and said in message, (at, message)
    assert "MS096" not in rules_of(report, "0002_exit.py")
    assert "MS001" in rules_of(report, "0003_index.py")
    if where == "upgrade":
        # What upgrade() rendered before the exit is still checked.
        migration = next(m for m in report["migrations"] if m["path"].endswith("0002_exit.py"))
        assert [s["sql"] for s in migration["statements"]] == ["ALTER TABLE accounts ADD COLUMN a TEXT"]


def test_a_revision_that_hangs_is_stopped_at_its_line_and_the_rest_is_checked(tmp_path):
    hang = 'op.add_column("accounts", sa.Column("a", sa.Text))\nwhile True:\n    pass'
    root = project(tmp_path, [FIRST, ("0002_hang.py", hang), LAST], settings="revision_time_limit = 3")
    code, report = check_in_a_new_process(root)
    assert code == 2
    ((rule, at, message),) = findings_of(report, "0002_hang.py")
    assert rule == "MS099" and at in (10, 11) and "did not finish within 3 s" in message
    assert "revision_time_limit" in message
    assert "MS001" in rules_of(report, "0003_index.py")


def test_a_revision_that_ignores_the_request_to_stop_is_killed(tmp_path):
    hang = "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass"
    root = project(tmp_path, [FIRST, ("0002_hang.py", hang), LAST], settings="revision_time_limit = 3")
    code, report = check_in_a_new_process(root)
    assert code == 2
    ((rule, _, message),) = findings_of(report, "0002_hang.py")
    assert rule == "MS099" and "did not finish within 3 s" in message
    assert "MS001" in rules_of(report, "0003_index.py")


def test_a_revision_that_hangs_while_loading_is_stopped(tmp_path):
    text = revision("0002", "0001", "pass", header="while True:\n    pass")
    root = project(tmp_path, [FIRST, ("0002_hang.py", text), LAST], settings="revision_time_limit = 3")
    code, report = check_in_a_new_process(root)
    assert code == 2
    ((rule, at, message),) = findings_of(report, "0002_hang.py")
    assert rule == "MS099" and at in (3, 4) and "cannot load the revision: it did not finish within 3 s" in message
    assert "MS001" in rules_of(report, "0003_index.py")


def test_a_revision_that_kills_its_process_is_an_input_error(tmp_path):
    body = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
    root = project(tmp_path, [FIRST, ("0002_kill.py", body), LAST])
    code, report = check_in_a_new_process(root)
    assert code == 2
    ((rule, at, message),) = findings_of(report, "0002_kill.py")
    assert (rule, at) == ("MS099", 10) and "killed by SIGKILL" in message
    assert "MS001" in rules_of(report, "0003_index.py")


@pytest.mark.parametrize("body, said", [
    ("raise KeyboardInterrupt", "raised KeyboardInterrupt"),
    ("import os, sys\nos.write(int(sys.argv[1]), b'{not json\\n')", "sent something unreadable"),
])
def test_a_revision_that_breaks_the_child_costs_only_itself(tmp_path, body, said):
    root = project(tmp_path, [FIRST, ("0002_breaks.py", body), LAST])
    code, report = check_in_a_new_process(root)
    assert code == 2
    ((rule, _, message),) = findings_of(report, "0002_breaks.py")
    assert rule == "MS099" and said in message
    assert "MS001" in rules_of(report, "0003_index.py")


def by_file(report, name: str):
    return next(r for r in report.results if r.migration.path.endswith(name))


@pytest.fixture
def listener():
    """A TCP server nobody should reach: it tells whether a connection arrived."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server
    server.close()


def reached(server: socket.socket) -> bool:
    return bool(select.select([server], [], [], 0)[0])


def test_a_socket_connection_is_refused_and_reported(tmp_path, listener):
    port = listener.getsockname()[1]
    body = f'''
    import socket
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=5)
    except OSError:
        pass
    op.add_column("accounts", sa.Column("a", sa.Text))
    '''
    root = project(tmp_path, [FIRST, ("0002_net.py", body)])
    result = by_file(run([str(root)], Config()), "0002_net.py")
    assert not reached(listener)
    assert [a.statement.sql for a in result.statements] == ["ALTER TABLE accounts ADD COLUMN a TEXT"]
    (note,) = [f for f in result.findings if f.rule == "MS096"]
    assert note.line == 11 and f"127.0.0.1 (port {port})" in note.message and "no network access" in note.message


def test_a_postgresql_connection_through_libpq_is_refused(tmp_path, listener):
    pytest.importorskip("psycopg")
    port = listener.getsockname()[1]
    body = f'''
    import psycopg
    psycopg.connect("host=127.0.0.1 port={port} dbname=x user=x connect_timeout=5")
    '''
    root = project(tmp_path, [FIRST, ("0002_pg.py", body)])
    result = by_file(run([str(root)], Config()), "0002_pg.py")
    assert not reached(listener)
    (note,) = result.findings
    assert note.rule == "MS096" and note.line == 10 and "Permission denied" in note.message


def test_writing_a_file_is_refused_and_the_file_not_created(tmp_path):
    target = tmp_path / "written_by_the_revision.txt"
    kept = tmp_path / "kept.txt"
    kept.write_text("the user's\n")
    body = f'''
    open({str(target)!r}, "w").write("x")
    '''
    header = f"import os\ntry:\n    os.remove({str(kept)!r})\nexcept OSError:\n    pass"
    text = revision("0002", "0001", body, header=header)
    root = project(tmp_path / "proj", [FIRST, ("0002_write.py", text)])
    result = by_file(run([str(root)], Config()), "0002_write.py")
    assert not target.exists() and kept.read_text() == "the user's\n"
    found = sorted((f.rule, f.line, f.message) for f in result.findings)
    assert [(rule, line) for rule, line, _ in found] == [("MS096", 5), ("MS096", 13)]
    assert f"removing {kept}" in found[0][2]
    assert f"opening {target} for writing was refused" in found[1][2]


def test_the_scratch_folder_is_writable_and_removed_afterwards(tmp_path, monkeypatch):
    import tempfile

    temp, here = tmp_path / "temp", tmp_path / "here"
    temp.mkdir()
    here.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.chdir(here)
    body = """
    import os, tempfile
    with open("notes.txt", "w") as notes:
        notes.write("x")
    with tempfile.NamedTemporaryFile("w") as scratch:
        scratch.write("x")
    op.execute(f"SELECT '{os.getcwd()}'")
    """
    root = project(tmp_path / "proj", [FIRST, ("0002_scratch.py", body)])
    result = by_file(run([str(root)], Config()), "0002_scratch.py")
    assert result.findings == []
    (statement,) = result.statements
    working = Path(statement.statement.sql.split("'")[1])
    assert working.parent == temp and not working.exists()  # a folder of its own, removed afterwards
    assert list(here.iterdir()) == [] and list(temp.iterdir()) == []


def test_starting_a_process_is_refused(tmp_path):
    marker = tmp_path / "made_by_a_process"
    body = f'''
    import subprocess
    try:
        subprocess.run(["touch", {str(marker)!r}])
    except OSError:
        pass
    op.add_column("accounts", sa.Column("a", sa.Text))
    '''
    root = project(tmp_path / "proj", [FIRST, ("0002_process.py", body)])
    result = by_file(run([str(root)], Config()), "0002_process.py")
    assert not marker.exists()
    assert len(result.statements) == 1
    (note,) = result.findings
    assert note.rule == "MS096" and note.line == 11
    assert "starting the process touch" in note.message and "may not start processes" in note.message


def test_signalling_another_process_is_refused(tmp_path):
    body = """
    import os
    try:
        os.kill(os.getppid(), 0)
    except OSError:
        pass
    op.add_column("accounts", sa.Column("a", sa.Text))
    """
    root = project(tmp_path, [FIRST, ("0002_signal.py", body)])
    result = by_file(run([str(root)], Config()), "0002_signal.py")
    assert len(result.statements) == 1
    (note,) = result.findings
    assert note.rule == "MS096" and note.line == 11 and "sending signal 0 to process" in note.message


def test_a_deprecation_warning_at_import_is_information_and_the_sql_is_rendered(tmp_path):
    app = tmp_path / "oldapp_for_sandbox_tests"
    app.mkdir()
    (app / "__init__.py").write_text("import warnings\nwarnings.warn('oldapp is deprecated', DeprecationWarning)\n")
    text = revision("0002", "0001", 'op.add_column("accounts", sa.Column("a", sa.Text))',
                    header="import oldapp_for_sandbox_tests")
    root = project(tmp_path, [FIRST, ("0002_warn.py", text)])
    report = run([str(root)], Config(alembic={"preamble": "SET lock_timeout = '2s'"}))
    result = by_file(report, "0002_warn.py")
    assert [a.statement.sql for a in result.statements] == ["ALTER TABLE accounts ADD COLUMN a TEXT"]
    assert [(f.rule, f.name, f.severity, f.line) for f in result.all_findings()] == [
        ("MS087", "revision-warning", "info", 3)]
    assert "DeprecationWarning while the revision loads: oldapp is deprecated" in result.findings[0].message
    assert report.findings == [] and not result.migration.broken


def test_a_warning_is_reported_once_when_a_later_revision_ends_the_child(tmp_path):
    warned = revision("0001", None, FIRST[1], header="import warnings\nwarnings.warn('old', DeprecationWarning)")
    root = project(tmp_path, [("0001_accounts.py", warned), ("0002_x.py", "import os\nos._exit(3)"), LAST])
    code, report = check_in_a_new_process(root)
    assert code == 2
    assert [rule for rule, _, _ in findings_of(report, "0001_accounts.py")] == ["MS087"]
    assert "MS001" in rules_of(report, "0003_index.py")


def test_one_child_per_run_unless_a_revision_ends_it(tmp_path, monkeypatch):
    from migrasafe.sandbox import runner

    started = []
    real = runner.Sandbox.run

    def counted(self, target, payload, **options):
        started.append(target)
        return real(self, target, payload, **options)

    monkeypatch.setattr(runner.Sandbox, "run", counted)
    calm = project(tmp_path / "calm", [FIRST, ("0002_x.py", 'op.add_column("accounts", sa.Column("a", sa.Text))'),
                                       LAST])
    assert len(run([str(calm)], Config()).results) == 3
    assert len(started) == 1
    ending = project(tmp_path / "ending", [FIRST, ("0002_x.py", "import os\nos._exit(3)"), LAST])
    report = run([str(ending)], Config())  # (without a sandbox, this would end pytest itself)
    assert len(started) == 3
    assert "MS001" in {f.rule for f in by_file(report, "0003_index.py").all_findings()}


def test_revision_code_runs_in_another_process(tmp_path):
    marker = "sandbox_marker_module_for_tests"
    (tmp_path / f"{marker}.py").write_text("import os\nPID = os.getpid()\n")
    body = f'op.execute(f"SELECT {{{marker}.PID}}")'
    root = project(tmp_path, [FIRST, ("0002_pid.py", revision("0002", "0001", body, header=f"import {marker}"))])
    code = (
        "import os, sys\n"
        "from migrasafe.check import run\n"
        "from migrasafe.config import Config\n"
        f"report = run([{str(root)!r}], Config())\n"
        "sql = report.results[1].statements[0].statement.sql\n"
        f"loaded = [m for m in ('alembic', 'sqlalchemy', {marker!r}) if m in sys.modules]\n"
        "print(sql != f'SELECT {os.getpid()}', loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          timeout=_HANG_GUARD_SECONDS)
    assert done.stdout.splitlines()[-1] == "True []"


def test_time_limits_are_validated(tmp_path):
    config = tmp_path / "migrasafe.toml"
    for bad in ("0", "-1", "'30'", "true"):
        config.write_text(f"[alembic]\nrevision_time_limit = {bad}\n")
        with pytest.raises(ConfigError, match="alembic.revision_time_limit"):
            load_config(config)
    config.write_text("[alembic]\nrevision_time_limit = 2.5\nrun_time_limit = 60\n")
    assert load_config(config).alembic == {"revision_time_limit": 2.5, "run_time_limit": 60}


def test_the_run_limit_stops_what_is_left_and_says_so(tmp_path):
    hang = "while True:\n    pass"
    root = project(tmp_path, [FIRST, ("0002_hang.py", hang), LAST],
                   settings="revision_time_limit = 300\nrun_time_limit = 3")
    code, report = check_in_a_new_process(root)
    assert code == 2
    # On a slow machine the limit may pass before the revisions are even listed: then the project
    # carries the finding. Either way nothing after the hang is reported as checked.
    stopped = [f for f in report["findings"] if f["rule"] == "MS099"]
    if report["migrations"]:
        assert [rule for rule, _, _ in findings_of(report, "0002_hang.py")] == ["MS099"]
        ((rule, _, message),) = findings_of(report, "0003_index.py")
        stopped.append({"rule": rule, "message": message})
    assert stopped and all("time limit of 3 s" in f["message"] and "run_time_limit" in f["message"]
                           for f in stopped)
