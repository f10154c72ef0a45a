"""The pre-commit hook (.pre-commit-hooks.yaml), run by pre-commit itself on a sample repository.

The hook repository is a git copy of migrasafe's working tree; pre-commit installs it into
an environment of its own (language: python), as it would for a user.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from project_copy import copy_project, looks_offline

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

CREATE = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text);\n"
BAD = "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"
GOOD = "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\n"


def pre_commit_command() -> list[str]:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        pytest.skip("pre-commit is not installed: pip install -e '.[test]'")
    return [sys.executable, "-m", "pre_commit"]


def environment(home: Path) -> dict:
    env = {
        "HOME": str(home), "PATH": os.environ["PATH"], "PRE_COMMIT_HOME": str(home / "pre-commit"),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CACHE_DIR", "PIP_CONFIG_FILE"):
        if name in os.environ:
            env[name] = os.environ[name]
    # pip's own cache under the real home makes the repeated installs cheap.
    env.setdefault("PIP_CACHE_DIR", str(Path(os.environ.get("HOME", home)) / ".cache" / "pip"))
    return env


def git(repo: Path, env: dict, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory):
    """migrasafe's working tree as a git repository pre-commit can clone, and its commit."""
    home = tmp_path_factory.mktemp("home")
    env = environment(home)
    repo = copy_project(tmp_path_factory.mktemp("hooks") / "migrasafe")
    git(repo, env, "init", "-q", "-b", "main")
    git(repo, env, "add", "-A")
    git(repo, env, "commit", "-qm", "migrasafe")
    return repo, git(repo, env, "rev-parse", "HEAD").strip(), home


@pytest.fixture
def project(tmp_path, hook_repository):
    hooks, rev, home = hook_repository
    env = environment(home)
    repo = tmp_path / "shop"
    (repo / "migrations").mkdir(parents=True)
    (repo / "scripts").mkdir()
    (repo / "migrations" / "V1__create.sql").write_text(CREATE)
    config = {"repos": [{"repo": str(hooks), "rev": rev, "hooks": [{"id": "migrasafe"}]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    git(repo, env, "init", "-q", "-b", "main")
    git(repo, env, "add", "-A")
    git(repo, env, "commit", "-qm", "schema")
    return repo, env


def run_hooks(repo: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([*pre_commit_command(), "run", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=900)
    if done.returncode not in (0, 1) or "An unexpected error has occurred" in done.stdout + done.stderr:
        if looks_offline(done.stdout + done.stderr + log(env)):
            pytest.skip("PyPI is unreachable, so pre-commit cannot install the hook's dependencies")
    return done


def log(env: dict) -> str:
    path = Path(env["PRE_COMMIT_HOME"]) / "pre-commit.log"
    return path.read_text() if path.is_file() else ""


def test_hook_blocks_a_staged_unsafe_migration(project):
    repo, env = project
    (repo / "migrations" / "V2__index.sql").write_text(BAD)
    git(repo, env, "add", "migrations/V2__index.sql")
    done = run_hooks(repo, env)
    assert done.returncode == 1, done.stdout + done.stderr + log(env)
    assert "migrasafe" in done.stdout and "Failed" in done.stdout
    assert "migrations/V2__index.sql:1:1: MS001 index-without-concurrently [error]" in done.stdout
    # V1 was read for the schema (the table is live), not reported.
    assert "V1__create.sql" not in done.stdout


def test_hook_passes_a_safe_migration(project):
    repo, env = project
    (repo / "migrations" / "V2__index.sql").write_text(GOOD)
    git(repo, env, "add", "migrations/V2__index.sql")
    done = run_hooks(repo, env)
    assert done.returncode == 0, done.stdout + done.stderr + log(env)
    assert "Passed" in done.stdout


def test_hook_ignores_sql_outside_migration_folders(project):
    repo, env = project
    (repo / "scripts" / "report.sql").write_text(BAD)
    git(repo, env, "add", "scripts/report.sql")
    done = run_hooks(repo, env)
    assert done.returncode == 0, done.stdout + done.stderr + log(env)
    assert "(no files to check)Skipped" in done.stdout


def test_hook_manifest():
    hooks = yaml.safe_load((Path(__file__).resolve().parents[1] / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert (hook["id"], hook["entry"], hook["language"]) == ("migrasafe", "migrasafe check", "python")
    import re

    pattern = re.compile(hook["files"])
    assert pattern.search("db/migrations/V1__x.sql") and pattern.search("alembic/versions/ab12_x.py")
    assert pattern.search("migrations/000001_x.up.sql")
    assert not pattern.search("scripts/report.sql")
