"""`--since REF`: only migrations added or changed since a git ref are reported."""
import json
import shutil
import subprocess

import pytest

from migrasafe import cli
from migrasafe.changed import ChangedFilesError, changed_files, detect_base

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

CREATE = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text);\n"
OLD_BAD = "CREATE INDEX orders_note_idx ON orders (note);\n"
NEW_BAD = "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"


def git(repo, *args):
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True,
        env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
             "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(repo), "PATH": "/usr/bin:/bin"},
    ).stdout


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """main: a table and an old unsafe index; feature (checked out): one new unsafe migration."""
    for name in ("GITHUB_EVENT_PATH", "GITHUB_BASE_REF", "CI_MERGE_REQUEST_DIFF_BASE_SHA", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "V1__create.sql").write_text(CREATE)
    (migrations / "V2__old.sql").write_text(OLD_BAD)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "base")
    git(tmp_path, "checkout", "-qb", "feature")
    (migrations / "V3__new.sql").write_text(NEW_BAD)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "feature")
    return tmp_path


def reported_paths(capsys, *argv):
    code = cli.main(["check", "migrations", "--format", "json", *argv])
    out = capsys.readouterr()
    return code, [m["path"] for m in json.loads(out.out)["migrations"]], out.err


def test_only_changed_migrations_are_reported(repo, capsys):
    code, paths, _ = reported_paths(capsys, "--since", "main")
    assert paths == ["migrations/V3__new.sql"]
    assert code == 1


def test_unchanged_migrations_still_build_the_schema(repo, capsys):
    # V3's index is on a table created in V1: it is flagged only because V1 was replayed.
    cli.main(["check", "migrations", "--since", "main", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    findings = [f["rule"] for s in data["migrations"][0]["statements"] for f in s["findings"]]
    assert "MS001" in findings


def test_without_since_every_migration_is_reported(repo, capsys):
    code, paths, _ = reported_paths(capsys)
    assert paths == ["migrations/V1__create.sql", "migrations/V2__old.sql", "migrations/V3__new.sql"]


def test_nothing_changed_passes(repo, capsys):
    code, paths, _ = reported_paths(capsys, "--since", "HEAD")
    assert (code, paths) == (0, [])


def test_uncommitted_and_untracked_files_count_as_changed(repo, capsys):
    (repo / "migrations" / "V2__old.sql").write_text(OLD_BAD + "-- edited\n")
    (repo / "migrations" / "V4__wip.sql").write_text("ALTER TABLE orders ADD COLUMN x int;\n")
    code, paths, _ = reported_paths(capsys, "--since", "HEAD")
    assert paths == ["migrations/V2__old.sql", "migrations/V4__wip.sql"]


def test_changes_on_the_base_branch_after_the_branch_point_do_not_count(repo, capsys):
    git(repo, "checkout", "-q", "main")
    (repo / "migrations" / "V2__old.sql").write_text(OLD_BAD.replace("INDEX", "INDEX CONCURRENTLY"))
    git(repo, "commit", "-qam", "fix V2 on main")
    git(repo, "checkout", "-q", "feature")
    # A plain diff against main would list V2 (it differs); the merge base does not.
    assert "migrations/V2__old.sql" in git(repo, "diff", "--name-only", "main")
    changed = changed_files("main", repo / "migrations")
    assert changed == {(repo / "migrations" / "V3__new.sql").resolve()}


def test_a_single_named_file_with_since(repo, capsys):
    code = cli.main(["check", "migrations/V2__old.sql", "--since", "main", "--format", "json"])
    assert json.loads(capsys.readouterr().out)["migrations"] == []
    assert code == 0


def test_unknown_ref_is_a_usage_error(repo, capsys):
    assert cli.main(["check", "migrations", "--since", "no-such-branch"]) == 2
    err = capsys.readouterr().err
    assert "--since no-such-branch: no such commit" in err and "Traceback" not in err


def test_outside_a_repository_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    (tmp_path / "V1__a.sql").write_text(CREATE)
    assert cli.main(["check", "V1__a.sql", "--since", "main"]) == 2
    assert "is not inside a git repository" in capsys.readouterr().err


# --- the base of a pull request --------------------------------------------------------------


def test_since_auto_uses_the_pull_request_base(repo, tmp_path, monkeypatch, capsys):
    base = git(repo, "rev-parse", "main").strip()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "base": {"sha": base}}}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    code, paths, _ = reported_paths(capsys, "--since", "auto")
    assert paths == ["migrations/V3__new.sql"]


def test_detect_base_order(tmp_path, monkeypatch):
    for name in ("GITHUB_EVENT_PATH", "GITHUB_BASE_REF", "CI_MERGE_REQUEST_DIFF_BASE_SHA"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ChangedFilesError, match="name the base"):
        detect_base()
    monkeypatch.setenv("CI_MERGE_REQUEST_DIFF_BASE_SHA", "abc123")
    assert detect_base() == "abc123"
    monkeypatch.setenv("GITHUB_BASE_REF", "main")
    assert detect_base() == "origin/main"
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"base": {"sha": "f00d"}}}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    assert detect_base() == "f00d"


def test_since_auto_outside_ci_says_what_to_do(repo, capsys):
    assert cli.main(["check", "migrations", "--since", "auto"]) == 2
    assert "name the base, e.g. --since origin/main" in capsys.readouterr().err


def test_shallow_clone_without_the_common_ancestor_compares_with_the_ref(repo, tmp_path, capsys):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{repo}", str(clone))
    git(clone, "fetch", "-q", "--depth", "1", "origin", "main")
    changed = changed_files("FETCH_HEAD", clone / "migrations")
    assert changed == {(clone / "migrations" / "V3__new.sql").resolve()}
    assert "no common ancestor" in capsys.readouterr().err


def test_alembic_revisions_changed_since_the_ref_run_as_one_upgrade(tmp_path, monkeypatch, capsys):
    """A pull request's revisions ship in one upgrade: a lock the first takes is still held when
    the second runs (env.py wraps the upgrade in one transaction). Older revisions went out alone."""
    from test_alembic_projects import project, revision

    for name in ("GITHUB_EVENT_PATH", "GITHUB_BASE_REF", "CI_MERGE_REQUEST_DIFF_BASE_SHA", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    old = revision('op.create_table("teams", sa.Column("id", sa.BigInteger, primary_key=True))\n'
                   'op.execute("SET lock_timeout = \'1s\'")', "0002")
    project(tmp_path, {"0002_teams.py": old})
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "base")
    git(tmp_path, "checkout", "-qb", "feature")
    versions = tmp_path / "migrations" / "versions"
    (versions / "0003_accounts.py").write_text(revision('op.add_column("accounts", sa.Column("a", sa.Text))', "0003", "0002"))
    (versions / "0004_teams.py").write_text(revision('op.add_column("teams", sa.Column("t", sa.Text))', "0004", "0003"))
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "feature")

    def found(*argv):
        cli.main(["check", ".", "--format", "json", "--select", "MS031,MS032", *argv])
        report = json.loads(capsys.readouterr().out)
        return {m["version"]: sorted(f["rule"] for s in m["statements"] for f in s["findings"])
                for m in report["migrations"]}

    # One upgrade: 0004 runs while 0003's AccessExclusiveLock on accounts is held. The SET in
    # 0002 went out in an earlier deploy, so the new revisions have no lock_timeout.
    assert found("--since", "main") == {"0003": ["MS032"], "0004": ["MS031", "MS032"]}
    # A whole history: each revision its own upgrade.
    assert found() == {"0001": [], "0002": [], "0003": ["MS032"], "0004": ["MS032"]}
