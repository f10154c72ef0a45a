"""The child process that renders a Django project's migrations against a throwaway server.

    python -m migrasafe.sources.django.worker FD     # the payload as one JSON line on stdin

It configures Django (configure.py), loads the migration graph with Django's own
`MigrationLoader` (dependencies, `run_before`, squashed `replaces` chosen as Django chooses them
for an empty database), and applies the plan of `MigrationExecutor.migration_plan` one operation
at a time, as `Migration.apply` does (django/db/migrations/migration.py), on the embedded server
the parent started. Every statement Django sends is recorded through `connection.execute_wrapper`
(https://docs.djangoproject.com/en/stable/topics/db/instrumentation/) with the operation that
sent it. Results go back as JSON lines on FD:

    {"type": "graph", "plan": [{"app", "name", "file", "atomic"}], "skipped": {file: why},
     "external": {label: [file]}, "load_errors": {file: {"line", "message"}}, "settings_note": N,
     "load_refusals": [what the guard refused while the project loaded]}
    {"type": "step", "file": F}                       before each migration (for time limits)
    {"type": "rendering", "file", "atomic", "statements": [{"sql", "op", "deferred"}],
     "notes": [{"op", "message", "error"}],
     "backwards": {"irreversible": why | None, "statements": [...], "notes": [...]}}   when asked
    {"type": "error", "message": M}                   the project could not be loaded at all
    {"type": "not-a-prefix", "reason": R}             the restored database cannot be migrated further

With `done` (files) in the payload, the database was restored from a saved state holding those
migrations: the others are applied on top of it, as `manage.py migrate` would apply them.
"""
from __future__ import annotations

import gc
import io
import json
import os
import sys
import threading
import traceback
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from . import configure
from .guard import REFUSALS, confine
from .standins import is_stand_in, stand_ins

_MESSAGE_LIMIT = 300


class Out:
    def __init__(self, fd: int):
        self.fd = fd

    def send(self, data: dict) -> None:
        payload = (json.dumps(data, default=str) + "\n").encode()
        while payload:
            payload = payload[os.write(self.fd, payload):]


def main(argv: list[str]) -> int:
    out = Out(int(argv[1]))
    payload = json.loads(sys.stdin.buffer.readline())
    threading.Thread(target=_end_with_parent, daemon=True).start()
    sys.dont_write_bytecode = True  # no __pycache__ written into the user's folders
    sink = io.StringIO()
    try:
        with redirect_stdout(sink), redirect_stderr(sink):
            work(payload, out)
    except BaseException as error:  # told to the parent rather than printed
        out.send({"type": "error", "message": _text(error), "trace": traceback.format_exc()[-3000:]})
        return 1
    return 0


def _end_with_parent() -> None:
    """The parent keeps this pipe open while it reads the results: once it closes (the parent
    ended, however it ended), nobody reads them and the server is gone, so this process ends."""
    # os.read, not sys.stdin: a thread blocked in a buffered read would stop the interpreter's exit.
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    os._exit(3)


def work(payload: dict, out: Out) -> None:
    roots = [str(Path(p)) for p in payload["sys_path"]]
    sys.path[:0] = [r for r in roots if r not in sys.path]
    folders = [str(Path(a["folder"]) / "migrations") for a in payload["apps"]]

    def is_migration(filename: str) -> bool:
        return any(filename.startswith(folder + os.sep) for folder in folders)

    confine(payload["socket_dir"], payload["scratch"])
    with stand_ins(is_migration):
        db = configure.database(payload["database"])
        settings_note = None
        if payload["settings_module"]:
            try:
                configure.use_project_settings(payload["settings_module"], db)
            except Exception as error:
                settings_note = f"the settings module {payload['settings_module']} could not be imported " \
                                f"({_text(error)}): a minimal configuration was built from the migration folders"
                os.environ.pop("DJANGO_SETTINGS_MODULE", None)
        if not payload["settings_module"] or settings_note:
            configure.minimal_settings(payload["apps"], Path(payload["root"]), payload["referenced"],
                                       payload["user_model"], db)
        import django

        django.setup()
        from .loader import TolerantLoader
        from django.db import connection

        loader = TolerantLoader(connection, replace_migrations=True)
        plan = loader.plan()
        # What the project's code tried while Django started and the migrations were imported
        # belongs to no migration (saleor's: urllib3 probing for IPv6 on import).
        load_refusals = sorted({r["message"] for r in REFUSALS})
        REFUSALS.clear()
        out.send({"type": "graph", "plan": plan.entries, "skipped": plan.skipped, "external": plan.external,
                  "load_errors": plan.load_errors, "settings_note": settings_note, "load_refusals": load_refusals})
        _collect_less()
        _render_all(loader, plan, payload, out)


def _collect_less() -> None:
    """Rendering model states makes and drops model classes by the ten thousand, in reference
    cycles, so the cyclic collector runs often; each full collection went over every migration
    loaded, and took a third of the rendering (saleor's first 500 migrations: 54 s of CPU, 36 s
    with this). What is loaded by now lives to the end: frozen, it is never scanned again."""
    gc.collect()
    gc.freeze()


def _render_all(loader, plan, payload: dict, out: Out) -> None:
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    from .apply import Applier

    recorder = MigrationRecorder(connection)
    recorder.ensure_schema()
    done = set(payload.get("done", []))
    applier = Applier(connection, loader)
    if done:
        problem = _not_continuable(loader, plan, done)
        if problem is not None:
            out.send({"type": "not-a-prefix", "reason": problem})
            return
        # As `manage.py migrate` on a database that has migrations applied: the project state
        # is every applied migration's (MigrationExecutor._create_project_state), then the
        # others are applied in the plan's order.
        for migration, entry in zip(plan.migrations, plan.entries):
            if entry["file"] in done:
                applier.skip(migration)
    for migration, entry in zip(plan.migrations, plan.entries):
        if entry["file"] in done:
            continue
        out.send({"type": "step", "file": entry["file"]})
        result = applier.apply(migration, backwards=bool(payload.get("backwards")))
        result.update({"type": "rendering", "file": entry["file"]})
        result["notes"] += _stand_in_notes(migration)
        result["notes"] += [{"op": None, "error": False,
                             "message": f"{r['message']} was refused (the rendering has no network but the throwaway "
                                        f"server, no processes, read-only files); the migration went on without it"}
                            for r in REFUSALS]
        REFUSALS.clear()
        out.send(result)


def _not_continuable(loader, plan, done: set[str]) -> str | None:
    """Why the restored database is not one Django would migrate further, or None. Django's
    own rule (MigrationLoader.check_consistent_history): an applied migration's parents are
    applied; and every applied one must still be in the plan."""
    planned = {entry["file"] for entry in plan.entries}
    gone = sorted(done - planned)
    if gone:
        return f"{gone[0]}, which it holds, is no longer in Django's plan"
    done_keys = {(e["app"], e["name"]) for e in plan.entries if e["file"] in done}
    for key in sorted(done_keys):
        for parent in sorted(loader.graph.node_map[key].parents, key=lambda n: n.key):
            if parent.key not in done_keys:
                return (f"{key[0]}.{key[1]}, which it holds, depends on {parent.key[0]}.{parent.key[1]}, "
                        f"which it does not")
    return None


def _stand_in_notes(migration) -> list[dict]:
    from django.db import migrations as ops

    notes = []
    for index, operation in enumerate(migration.operations):
        seen: list[str] = []
        fields = []
        if hasattr(operation, "field"):
            fields.append(operation.field)
        fields += [f for _, f in getattr(operation, "fields", []) or []]
        for field in fields:
            name = is_stand_in(type(field))
            if name and name not in seen:
                seen.append(f"{name} (rendered as {type(field).__mro__[1].__name__})")
            default = getattr(field, "default", None)
            if callable(default) and is_stand_in(default):
                seen.append(f"{is_stand_in(default)} (the default= callable: the column's default is unknown)")
        if isinstance(operation, ops.RunPython) and is_stand_in(operation.code):
            notes.append({"op": index, "error": False,
                          "message": f"RunPython runs {is_stand_in(operation.code)}, application code that is not "
                                     f"here: what it does to the data is not checked"})
        if seen:
            notes.append({"op": index, "error": False,
                          "message": "application code that is not here was stood in for: " + ", ".join(seen)})
    return notes


def _text(error: BaseException) -> str:
    text = " ".join(str(error).split())
    if len(text) > _MESSAGE_LIMIT:
        text = text[: _MESSAGE_LIMIT - 1] + "…"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


if __name__ == "__main__":
    sys.exit(main(sys.argv))
