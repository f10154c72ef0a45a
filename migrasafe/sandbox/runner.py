"""The parent's side: start the child, read what it tells, enforce the time limits.

    with Sandbox(Limits(step_seconds=30, run_seconds=600)) as sandbox:
        outcome = sandbox.run("package.module:function", {"plain": "data"})

Each `run` is one child. The step limit applies to each step the function announces (and to the
time between steps); the run limit to everything the sandbox runs, across children, from the
moment it was made. A child that goes past a limit is asked to stop (SIGTERM, so it can say which
line it was at), then killed.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import migrasafe

from .child import STOPPED_EXIT

_GRACE_SECONDS = 2.0  # for a child asked to stop to say where it was
_OUTPUT_TAIL = 600


@dataclass(frozen=True)
class Limits:
    step_seconds: float = 30.0
    run_seconds: float = 600.0


@dataclass
class Failure:
    """Why a child ended before its function returned."""

    kind: str  # exited | killed | step-timeout | run-timeout | error (the function raised) | unreadable
    message: str  # "ended its process with os._exit(0)", "did not finish within 30 s", ...
    step: str | None = None  # the key of the step it was in
    line: int | None = None  # the line of the step's file it was at, when known
    traceback: str = ""  # for an error: where, in the child


@dataclass
class Outcome:
    data: list[dict] = field(default_factory=list)  # what the function sent, in order
    warnings: list[dict] = field(default_factory=list)  # {"key", "line", "category", "message"}
    refusals: list[dict] = field(default_factory=list)  # {"key", "line", "kind", "message"}
    failure: Failure | None = None
    layers: list[str] = field(default_factory=list)  # the confinement the child applied
    read: dict | None = None  # what the child read, when it told (cache/whole_run.py Watch.seen)


class Sandbox:
    def __init__(self, limits: Limits = Limits()):
        self.limits = limits
        self.deadline = time.monotonic() + limits.run_seconds
        self.scratch = tempfile.mkdtemp(prefix="migrasafe-sandbox-")
        self.children = 0

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline

    def run(self, target: str, payload: dict, bare: tuple[str, ...] = ()) -> Outcome:
        """Run `target(payload, channel)` in a new child; what it sent, and how it ended.

        `bare` names packages the target needs only for their subpackages: the child does not run
        their __init__ (a package that imports the whole pipeline costs each child its start-up)."""
        if self.out_of_time():
            return Outcome(failure=Failure("run-timeout", self._run_limit_text()))
        self.children += 1
        output_path = Path(self.scratch) / f"output-{self.children}.txt"
        read_end, write_end = os.pipe()
        try:
            with open(output_path, "wb") as output:
                child = subprocess.Popen(
                    [sys.executable, "-m", "migrasafe.sandbox", str(write_end)],
                    stdin=subprocess.PIPE, stdout=output, stderr=output, pass_fds=(write_end,),
                    cwd=self.scratch, env=self._environment(), start_new_session=True,
                )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        try:
            _send_task(child, {"target": target, "payload": payload, "scratch": self.scratch, "bare": list(bare),
                               "sys_path": [os.path.abspath(p or ".") for p in sys.path]})
            outcome = _Reading(child, read_end, self).outcome()
        finally:
            os.close(read_end)
            if child.poll() is None:
                child.kill()
            child.wait()
        if outcome.failure is not None and outcome.failure.kind == "killed":
            tail = _tail(output_path)
            if tail:
                outcome.failure.message += f" (its last output: {tail})"
        _tell_the_run(outcome)
        return outcome

    def _environment(self) -> dict:
        env = dict(os.environ)
        here = str(Path(migrasafe.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["TMPDIR"] = self.scratch
        return env

    def _run_limit_text(self) -> str:
        return f"the run's time limit of {_seconds(self.limits.run_seconds)} was reached"


def _tell_the_run(outcome: Outcome) -> None:
    """What the child read is an input of the check; a child stopped by a time limit or ended
    without telling leaves the run's inputs unknown (cache/whole_run.py)."""
    from ..cache import whole_run

    failure = outcome.failure
    if failure is not None and failure.kind in ("step-timeout", "run-timeout"):
        whole_run.child_unknown(f"the project's code was stopped by a time limit ({failure.message})")
    elif outcome.read is None:
        whole_run.child_unknown("the project's code ended its process without telling what it read")
    else:
        whole_run.child_read(outcome.read)


class _Reading:
    def __init__(self, child: subprocess.Popen, fd: int, sandbox: Sandbox):
        self.child, self.fd, self.sandbox = child, fd, sandbox
        self.result = Outcome()
        self.step: str | None = None
        self.ending: dict | None = None  # what the child said just before it ended
        self.finished = False
        self.step_deadline: float | None = None  # None until the child is ready
        self._buffer = b""

    def outcome(self) -> Outcome:
        while True:
            chunk = self._read(self._deadline())
            if chunk is None:  # a time limit passed
                return self._stop()
            if chunk == b"":
                break
            self._take(chunk)
        self.child.wait()
        if not self.finished and self.result.failure is None:
            self.result.failure = self._ended()
        return self.result

    def _deadline(self) -> float:
        run = self.sandbox.deadline
        return run if self.step_deadline is None else min(run, self.step_deadline)

    def _read(self, deadline: float) -> bytes | None:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                return os.read(self.fd, 1 << 16)

    def _take(self, chunk: bytes) -> None:
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            try:
                message = json.loads(line)
                self._event(message)
            except (ValueError, KeyError, TypeError, AttributeError):
                # The sandboxed code can write to the channel's pipe too: what it sends is not believed.
                if self.result.failure is None:
                    self.result.failure = Failure("unreadable", f"its process sent something unreadable: {line[:80]!r}",
                                                  self.step)

    def _event(self, message: dict) -> None:
        event = message.pop("event")
        if event in ("ready", "step", "end"):
            self.step_deadline = time.monotonic() + self.sandbox.limits.step_seconds
        if event == "ready":
            self.result.layers = message["layers"]
        elif event == "step":
            self.step = message["key"]
        elif event == "end":
            self.step = None
        elif event == "data":
            self.result.data.append(message["data"])
        elif event == "warning":
            self.result.warnings.append(message)
        elif event == "refused":
            self.result.refusals.append(message)
        elif event == "ending":
            self.ending = message
        elif event == "read":
            self.result.read = message["seen"]
        elif event == "done":
            self.finished = True
        elif event == "error":
            self.result.failure = Failure("error", message["message"], message.get("key"), None,
                                          message.get("traceback", ""))

    def _stop(self) -> Outcome:
        """Past a limit: ask the child to stop, hear where it was, kill it if it does not."""
        step = self.step
        run_limit = time.monotonic() >= self.sandbox.deadline
        try:
            self.child.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        grace = time.monotonic() + _GRACE_SECONDS
        while (chunk := self._read(grace)) not in (None, b""):
            self._take(chunk)
        if self.child.poll() is None:
            self.child.kill()
        self.child.wait()
        line = self.ending.get("line") if self.ending else None
        if run_limit:
            failure = Failure("run-timeout", self.sandbox._run_limit_text(), step, line)
        else:
            failure = Failure("step-timeout", f"did not finish within {_seconds(self.sandbox.limits.step_seconds)}",
                              step, line)
        self.result.failure = failure
        return self.result

    def _ended(self) -> Failure:
        code = self.child.returncode
        said = self.ending or {}
        step, line = said.get("key", self.step), said.get("line")
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return Failure("killed", f"its process was killed by {name}", step, line)
        how = said.get("how")
        if how and how.startswith("os._exit"):
            return Failure("exited", f"it ended its process with {how}", step, line)
        if code == STOPPED_EXIT:
            return Failure("killed", "its process was stopped", step, line)
        return Failure("exited", f"its process ended with exit code {code} before finishing", step, line)


def _send_task(child: subprocess.Popen, task: dict) -> None:
    try:
        child.stdin.write(json.dumps(task).encode())
        child.stdin.close()
    except BrokenPipeError:  # the child died at once; its exit status tells why
        pass


def _tail(path: Path) -> str:
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return ""
    lines = [line for line in text.splitlines() if line.strip()]
    return " ".join(lines[-3:])[-_OUTPUT_TAIL:]


def _seconds(value: float) -> str:
    return f"{value:g} s"
