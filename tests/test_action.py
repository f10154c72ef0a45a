"""The GitHub Action (action.yml): its steps' commands, run as a runner would run them.

A sample repository gets a base branch and a pull request branch; the checkout is what
actions/checkout makes for a pull request (a shallow clone of the merge commit). Each `run:`
step is executed with bash as the runner does, with the step's `env:` and `if:` evaluated,
GITHUB_OUTPUT / GITHUB_PATH / GITHUB_STEP_SUMMARY files, and a local stand-in for the GitHub
REST API that records the pull request comments. `uses:` steps (setup-python, upload-sarif)
belong to other actions and are only recorded.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from project_copy import copy_project, looks_offline

pytestmark = [
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
    pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed"),
]

REPOSITORY = "acme/shop"
PR_NUMBER = 7
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


# --- a stand-in for the parts of the GitHub API the action uses -----------------------------


class FakeGitHub:
    def __init__(self):
        self.comments: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.forbidden = False
        self.next_id = 100
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, payload=None):
                body = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def handle_any(self, method):
                fake.requests.append((method, self.path))
                if self.headers.get("Authorization") != "Bearer test-token":
                    return self.answer(401, {"message": "Bad credentials"})
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"null")
                base = f"/repos/{REPOSITORY}/issues"
                if method == "GET" and self.path.startswith(f"{base}/{PR_NUMBER}/comments"):
                    return self.answer(200, fake.comments)
                if fake.forbidden:
                    return self.answer(403, {"message": "Resource not accessible by integration"})
                if method == "POST" and self.path == f"{base}/{PR_NUMBER}/comments":
                    fake.next_id += 1
                    fake.comments.append({"id": fake.next_id, "body": payload["body"]})
                    return self.answer(201, fake.comments[-1])
                match = re.fullmatch(rf"{base}/comments/(\d+)", self.path)
                if method == "PATCH" and match:
                    comment = next(c for c in fake.comments if c["id"] == int(match.group(1)))
                    comment["body"] = payload["body"]
                    return self.answer(200, comment)
                return self.answer(404, {"message": "Not Found"})

            def do_GET(self):
                self.handle_any("GET")

            def do_POST(self):
                self.handle_any("POST")

            def do_PATCH(self):
                self.handle_any("PATCH")

        return Handler


@pytest.fixture
def github():
    fake = FakeGitHub()
    fake.thread.start()
    yield fake
    fake.server.shutdown()


# --- a runner for composite actions ---------------------------------------------------------


@dataclass
class StepRun:
    name: str
    skipped: str = ""  # why it did not run: "if" or "uses"
    code: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict = field(default_factory=dict)


class Runner:
    def __init__(self, action_dir: Path, workspace: Path, temp: Path, scratch: Path, event: dict, api_url: str):
        """`temp` is RUNNER_TEMP; `scratch` holds this job's own files (event, outputs, summary)."""
        self.action = yaml.safe_load((action_dir / "action.yml").read_text())
        self.action_dir = action_dir
        self.workspace = workspace
        self.temp = temp
        self.scratch = scratch
        self.event_path = scratch / "event.json"
        self.event_path.write_text(json.dumps(event))
        self.summary = scratch / "step_summary.md"
        # Stands in for actions/setup-python: a python3 of the supported version comes first.
        python_dir = temp / "setup-python"
        python_dir.mkdir(exist_ok=True)
        if not (python_dir / "python3").exists():
            (python_dir / "python3").symlink_to(sys.executable)
        self.path = [str(python_dir), "/usr/local/bin", "/usr/bin", "/bin"]
        self.context = {
            "github": {
                "action_path": str(action_dir), "token": "test-token", "event": event,
                "event_name": "pull_request", "workspace": str(workspace), "repository": REPOSITORY,
            },
            "runner": {"temp": str(temp)},
            "steps": {},
        }
        self.base_env = {
            "HOME": os.environ.get("HOME", str(temp)), "RUNNER_TEMP": str(temp), "CI": "true",
            "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workspace), "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(self.event_path), "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_API_URL": api_url, "GITHUB_STEP_SUMMARY": str(self.summary),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
        for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CACHE_DIR", "PIP_CONFIG_FILE"):
            if name in os.environ:
                self.base_env[name] = os.environ[name]

    def run(self, inputs: dict) -> list[StepRun]:
        declared = self.action["inputs"]
        unknown = set(inputs) - set(declared)
        assert not unknown, f"inputs the action does not declare: {unknown}"
        self.context["inputs"] = {}
        for name, spec in declared.items():
            self.context["inputs"][name] = inputs.get(name, self.substitute(str(spec.get("default", ""))))
        self.context["steps"] = {}
        runs = []
        for n, step in enumerate(self.action["runs"]["steps"]):
            done = self.run_step(n, step)
            runs.append(done)
            if done.code != 0:
                break
        return runs

    def run_step(self, n: int, step: dict) -> StepRun:
        done = StepRun(step.get("name", f"step {n}"))
        if "if" in step and not truthy(self.evaluate(str(step["if"]))):
            done.skipped = "if"
            return done
        if "uses" in step:
            done.skipped = "uses"
            return done
        assert step.get("shell") == "bash", f"{done.name}: run steps of a composite action need shell: bash"
        output, path_file = self.scratch / f"output-{n}", self.scratch / f"path-{n}"
        output.write_text("")
        path_file.write_text("")
        env = dict(self.base_env, PATH=os.pathsep.join(self.path), GITHUB_OUTPUT=str(output),
                   GITHUB_PATH=str(path_file))
        env.update({key: self.substitute(str(value)) for key, value in (step.get("env") or {}).items()})
        script = self.scratch / f"step-{n}.sh"
        script.write_text(step["run"])
        cwd = self.workspace / self.substitute(str(step.get("working-directory", ".")))
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        done.code, done.stdout, done.stderr = proc.returncode, proc.stdout, proc.stderr
        done.outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        if "id" in step:
            self.context["steps"][step["id"]] = {"outputs": done.outputs}
        # Like the runner: directories added to GITHUB_PATH come first in later steps.
        self.path = [line for line in path_file.read_text().splitlines() if line] + self.path
        return done

    def substitute(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: str(self.evaluate(m.group(1))), text)

    def evaluate(self, expression: str):
        expression = EXPRESSION.sub(lambda m: m.group(1), expression).strip()
        if "&&" in expression:
            return all(truthy(self.evaluate(part)) for part in expression.split("&&"))
        if "||" in expression:
            return any(truthy(self.evaluate(part)) for part in expression.split("||"))
        if expression == "always()":
            return True
        compare = re.fullmatch(r"(.+?)\s*(==|!=)\s*'([^']*)'", expression)
        if compare:
            value = str(self.lookup(compare.group(1)))
            return (value == compare.group(3)) == (compare.group(2) == "==")
        return self.lookup(expression)

    def lookup(self, dotted: str):
        value = self.context
        for key in dotted.strip().split("."):
            if not isinstance(value, dict) or key not in value:
                return ""
            value = value[key]
        return value


def truthy(value) -> bool:
    return bool(value) and value != "false"


# --- the sample repository --------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(repo), "PATH": os.environ["PATH"]}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


CREATE = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text);\n"
OLD_BAD = "CREATE INDEX orders_note_idx ON orders (note);\n"
NEW_BAD = "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"
NEW_GOOD = "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN shipped_at timestamptz;\n"
FIXED = "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);\n"


@pytest.fixture
def checkout(tmp_path):
    """A pull request checkout as actions/checkout makes it, and the event that started the job."""
    upstream = tmp_path / "upstream"
    migrations = upstream / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "V1__create.sql").write_text(CREATE)
    (migrations / "V2__old.sql").write_text(OLD_BAD)
    git(upstream, "init", "-q", "-b", "main")
    git(upstream, "config", "uploadpack.allowAnySHA1InWant", "true")
    git(upstream, "add", "-A")
    git(upstream, "commit", "-qm", "base")
    git(upstream, "checkout", "-qb", "feature")
    (migrations / "V3__index.sql").write_text(NEW_BAD)
    (migrations / "V4__column.sql").write_text(NEW_GOOD)
    git(upstream, "add", "-A")
    git(upstream, "commit", "-qm", "feature")
    head = git(upstream, "rev-parse", "HEAD").strip()
    git(upstream, "checkout", "-q", "main")
    base = git(upstream, "rev-parse", "HEAD").strip()
    git(upstream, "merge", "-q", "--no-ff", "-m", "merge", "feature")
    git(upstream, "update-ref", f"refs/pull/{PR_NUMBER}/merge", "HEAD")
    git(upstream, "reset", "-q", "--hard", base)

    workspace = tmp_path / "workspace"
    workspace.mkdir()
    git(workspace, "init", "-q")
    git(workspace, "remote", "add", "origin", f"file://{upstream}")
    git(workspace, "fetch", "-q", "--no-tags", "--depth=1", "origin",
        f"+refs/pull/{PR_NUMBER}/merge:refs/remotes/pull/{PR_NUMBER}/merge")
    git(workspace, "checkout", "-q", "--detach", f"refs/remotes/pull/{PR_NUMBER}/merge")
    event = {"pull_request": {"number": PR_NUMBER, "base": {"sha": base, "ref": "main"}, "head": {"sha": head}}}
    return workspace, event


@pytest.fixture(scope="module")
def action_dir(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("action"))


@pytest.fixture(scope="module")
def runner_temp(tmp_path_factory):
    """Shared by the module's jobs, so the virtual environment the action installs into is reused."""
    return tmp_path_factory.mktemp("runner-temp")


@pytest.fixture
def runner(tmp_path, checkout, github, action_dir, runner_temp):
    workspace, event = checkout
    scratch = tmp_path / "job"
    scratch.mkdir()
    return Runner(action_dir, workspace, runner_temp, scratch, event, github.url)


def step(runs: list[StepRun], name: str) -> StepRun:
    found = next((r for r in runs if r.name == name), None)
    if found is None:
        last = runs[-1]
        raise AssertionError(f"step {name!r} did not run: the job stopped at {last.name!r}:\n{last.stderr[-3000:]}")
    return found


def require_install(runs: list[StepRun]) -> None:
    install = step(runs, "Install migrasafe")
    if install.code != 0 and looks_offline(install.stderr + install.stdout):
        pytest.skip(f"PyPI is unreachable, so migrasafe's dependencies cannot be installed: {install.stderr[-300:]}")
    assert install.code == 0, install.stderr


def test_action_reports_only_the_pull_requests_migrations(runner, github, checkout):
    runs = runner.run({"paths": "migrations", "sarif": "true"})
    require_install(runs)
    assert step(runs, "Set up Python").skipped == "uses"
    assert step(runs, "Upload SARIF").skipped == "uses"
    assert step(runs, "Replay on an embedded PostgreSQL").skipped == "if"

    # The base commit was not in the shallow checkout: the action fetched it.
    assert step(runs, "Find the base of the pull request").outputs["ref"] == checkout[1]["pull_request"]["base"]["sha"]

    report = step(runs, "Check migrations")
    assert report.code == 0, report.stderr
    annotations = [line for line in report.stdout.splitlines() if line.startswith("::")]
    assert annotations and all("file=migrations/V3__index.sql," in a for a in annotations), annotations
    assert any(a.startswith("::error file=migrations/V3__index.sql,line=1,col=1,endLine=1,title=MS001 ")
               for a in annotations)
    assert report.outputs["verdict"] == "fail"
    assert report.outputs["exit-code"] == "1"

    sarif = json.loads(Path(report.outputs["sarif-file"]).read_text())
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert uris == {"migrations/V3__index.sql"}

    summary = runner.summary.read_text()
    assert "## migrasafe: ❌ fail" in summary and "`migrations/V4__column.sql`" in summary
    assert "V2__old.sql" not in summary

    assert [c["body"].splitlines()[0] for c in github.comments] == ["<!-- migrasafe -->"]
    assert "`migrations/V3__index.sql`" in github.comments[0]["body"]

    verdict = runs[-1]
    assert (verdict.name, verdict.code) == ("Verdict", 1)


def test_action_updates_its_one_comment(runner, github, checkout):
    workspace, _ = checkout
    require_install(runner.run({"paths": "migrations"}))
    first = github.comments[0]["body"]

    # The pull request is fixed: the comment is updated in place to the passing verdict.
    (workspace / "migrations" / "V3__index.sql").write_text(FIXED)
    runs = runner.run({"paths": "migrations"})
    assert [r.code for r in runs] == [0] * len(runs), [(r.name, r.stderr) for r in runs if r.code]
    assert len(github.comments) == 1
    assert github.comments[0]["body"] != first
    assert "## migrasafe: ✅ pass" in github.comments[0]["body"]
    assert [m for m, _ in github.requests].count("POST") == 1
    assert [m for m, _ in github.requests].count("PATCH") == 1


def test_a_passing_pull_request_gets_no_new_comment(runner, github, checkout):
    workspace, _ = checkout
    (workspace / "migrations" / "V3__index.sql").write_text(FIXED)
    runs = runner.run({"paths": "migrations"})
    require_install(runs)
    assert runs[-1].code == 0
    assert github.comments == []


def test_fail_on_and_comment_inputs(runner, github):
    runs = runner.run({"paths": "migrations", "fail-on": "never", "comment": "false"})
    require_install(runs)
    assert step(runs, "Comment on the pull request").skipped == "if"
    outputs = step(runs, "Check migrations").outputs
    assert (outputs["verdict"], outputs["exit-code"]) == ("fail", "0")
    assert runs[-1].code == 0
    assert github.requests == []


def test_a_token_that_cannot_comment_only_warns(runner, github):
    github.forbidden = True
    runs = runner.run({"paths": "migrations"})
    require_install(runs)
    comment = step(runs, "Comment on the pull request")
    assert comment.code == 0
    assert "::warning title=migrasafe::cannot comment on the pull request" in comment.stdout
    assert runs[-1].name == "Verdict" and runs[-1].code == 1


def test_bad_arguments_fail_the_check_step_with_the_reason(runner):
    runs = runner.run({"paths": "migrations", "args": "--pg-version 9"})
    require_install(runs)
    failed = runs[-1]
    assert failed.name == "Check migrations" and failed.code == 2
    assert "12 to 18" in failed.stderr


def test_replay_figures_and_findings_reach_the_comment(runner, github):
    runs = runner.run({"paths": "migrations", "replay": "true", "replay-args": "--rows 2000 --no-progress"})
    require_install(runs)
    replay = step(runs, "Replay on an embedded PostgreSQL")
    assert replay.code == 0 and replay.outputs.get("file"), replay.stderr[-2000:]
    replayed = json.loads(Path(replay.outputs["file"]).read_text())
    assert [m["path"] for m in replayed["migrations"]] == ["migrations/V3__index.sql", "migrations/V4__column.sql"]
    assert len(github.comments) == 1, [(r.name, r.code, r.stderr[-500:]) for r in runs]
    body = github.comments[0]["body"]
    assert "### Observed on a real server" in body, (body, replay.stderr[-2000:])
    section = body[body.index("### Observed on a real server"):]
    row = next(line for line in section.splitlines() if "CREATE INDEX orders_customer_idx" in line)
    assert "ShareLock on public.orders" in row
    assert "```mermaid\ngantt" in section and "ShareLock V3__index.sql line 1 :active," in section
    # The timeline page is written by the replay, handed to upload-artifact and linked from the comment.
    page = Path(replay.outputs["html"])
    assert page.is_file() and "data-ready" in page.read_text()
    upload = step(runs, "Upload the replay timeline")
    assert upload.skipped == "uses"  # its `if:` held; the upload itself belongs to actions/upload-artifact
    (spec,) = [s for s in runner.action["runs"]["steps"] if s.get("name") == "Upload the replay timeline"]
    assert spec["uses"].startswith("actions/upload-artifact@") and runner.substitute(spec["with"]["path"]) == str(page)
    assert "[Lock timeline of the replay](https://github.com/acme/shop/actions/runs/" in body
    assert runs[-1].name == "Verdict" and runs[-1].code == 1


def test_without_replay_there_is_no_timeline_to_upload(runner, github):
    runs = runner.run({"paths": "migrations"})
    require_install(runs)
    assert step(runs, "Upload the replay timeline").skipped == "if"
    assert "Lock timeline" not in github.comments[0]["body"]


def test_every_input_is_documented():
    action = yaml.safe_load((Path(__file__).resolve().parents[1] / "action.yml").read_text())
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name, spec in action["inputs"].items():
        assert spec.get("description"), name
        assert f"`{name}`" in readme, f"README does not document the action input {name}"


def test_the_check_cache_is_restored_and_saved_where_the_checks_write_it():
    steps = yaml.safe_load((Path(__file__).resolve().parents[1] / "action.yml").read_text())["runs"]["steps"]
    (cache,) = [s for s in steps if s.get("uses", "").startswith("actions/cache@")]
    checks = [s for s in steps if "migrasafe check" in s.get("run", "")]
    assert checks and all(s["env"]["MIGRASAFE_CACHE_DIR"] == cache["with"]["path"] for s in checks)
    assert steps.index(cache) < min(steps.index(s) for s in checks)
    assert cache["with"]["restore-keys"] and "github.sha" in cache["with"]["key"]
