"""Apply one Django migration operation by operation, recording each statement it sends.

The loop is `Migration.apply`'s (django/db/migrations/migration.py) inside the schema editor
`MigrationExecutor.apply_migration` opens (`atomic=migration.atomic`), so transactions are
Django's: an atomic migration is one transaction; in a non-atomic one each statement commits on
its own, except operations that ask for a transaction (`RunPython(..., atomic=True)`), which
Django wraps in one — recorded here as BEGIN ... COMMIT around them.

What is recorded: what the schema editor executes (`schema_editor.execute`, including the
deferred statements — foreign keys and indexes — it runs when it closes, attributed to the
operation that queued them), and everything `RunSQL` and `RunPython` send. The catalog queries
the schema editor makes to find constraint names are reads of pg_catalog, not part of the
migration, and are left out.

An operation that raises costs only itself: in an atomic migration it runs inside a savepoint
that is rolled back, its state change is kept (so the operations after it know its models), and
a note says why it was not rendered.

With `backwards=True`, the migration's backward SQL is collected too, once it is applied, as
`sqlmigrate --backwards` collects it (`Migration.unapply` with `collect_sql`: nothing runs, the
schema editor's catalog reads see the database the migration left), for `migrasafe verify`.
"""
from __future__ import annotations

from django.db import transaction
from django.db.migrations.operations.special import RunPython, RunSQL
from django.db.utils import NotSupportedError

from .state import forget_unrendered_model, render_every_model, tolerate_absent_models


class _Recorder:
    def __init__(self, connection):
        self.connection = connection
        self.statements: list[dict] = []
        self.op: int | None = None
        self.capture_all = False
        self.in_editor = 0
        self.deferred: dict[int, int] = {}  # id(deferred statement) → operation index
        self.deferred_now: bool = False

    def __call__(self, execute, sql, params, many, context):
        if self.capture_all or self.in_editor:
            self.statements.append({"sql": self._compose(sql, params, many), "op": self.op,
                                    "deferred": self.deferred_now})
        return execute(sql, params, many, context)

    def _compose(self, sql, params, many) -> str:
        text = str(sql)
        if params is None:
            return text
        if many:
            params = next(iter(params), None)
            if params is None:
                return text
        try:
            return self.connection.ops.compose_sql(text, params)
        except Exception:
            return text

    def mark(self, sql: str) -> None:
        self.statements.append({"sql": sql, "op": self.op, "deferred": False})


def _sends_data(operation) -> bool:
    """Operations whose every query is part of the migration (not schema-editor catalog reads)."""
    if isinstance(operation, (RunPython, RunSQL)):
        return True
    module = type(operation).__module__
    return not (module.startswith("django.db.migrations.operations") or module.startswith("django.contrib.postgres"))


def _reads_only_new_state() -> frozenset:
    from django.contrib.postgres.operations import AddIndexConcurrently
    from django.db.migrations import operations

    return frozenset({operations.CreateModel, operations.AddIndex, operations.AddConstraint, operations.RunSQL,
                      operations.RunPython, operations.AlterModelOptions, operations.AlterModelManagers,
                      AddIndexConcurrently})


_READS_ONLY_NEW_STATE = _reads_only_new_state()


class Applier:
    def __init__(self, connection, loader):
        self.connection = connection
        self.loader = loader
        from django.db.migrations.state import ProjectState

        # The model classes (state.apps) are built at the first migration applied, not before:
        # skipping the migrations a restored database holds then only moves model states.
        self.state = ProjectState(real_apps=loader.unmigrated_apps)
        tolerate_absent_models()
        self.recorder = None  # one MigrationRecorder: it checks for its table once, not per migration

    def skip(self, migration) -> None:
        """Move the state past a migration applied (or given up on) by an earlier process; an
        operation whose models are not known was not rendered then either."""
        for operation in migration.operations:
            try:
                operation.state_forwards(migration.app_label, self.state)
            except Exception:
                pass

    def apply(self, migration, backwards: bool = False) -> dict:
        if "apps" not in self.state.__dict__:
            render_every_model(self.state)  # built once, then reloaded per model as Django's executor does
        before = self.state.clone() if backwards else None
        recorder = _Recorder(self.connection)
        notes: list[dict] = []
        with self.connection.execute_wrapper(recorder):
            try:
                with self.connection.schema_editor(atomic=migration.atomic) as editor:
                    self._hook_editor(editor, recorder)
                    for index, operation in enumerate(migration.operations):
                        recorder.op = index
                        self._operation(migration, operation, editor, recorder, notes, index)
                    recorder.op = None
                    recorder.deferred_now = True
            except Exception as error:  # the editor's own closing step (deferred SQL) failed
                notes.append({"op": recorder.op, "error": False,
                              "message": f"the migration failed when Django ran its deferred statements "
                                         f"({_describe(error)}); what follows in it is not checked"})
        if notes or self.connection.in_atomic_block:
            self._fresh_connection()
        self._record_applied(migration)
        result = {"atomic": bool(migration.atomic), "statements": recorder.statements, "notes": notes}
        if before is not None:
            result["backwards"] = self.backwards(migration, before)
        return result

    def backwards(self, migration, state) -> dict:
        """The SQL `sqlmigrate --backwards` prints for the migration, each statement with the
        operation it undoes; {"irreversible": why} when Django refuses to unapply it."""
        from django.db.migrations.exceptions import IrreversibleError

        try:
            with self.connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
                migration.unapply(state, editor, collect_sql=True)
        except IrreversibleError as error:
            op = next((i for i, o in enumerate(migration.operations) if not o.reversible), None)
            return {"irreversible": str(error), "op": op, "statements": [], "notes": []}
        except Exception as error:
            self._fresh_connection()
            return {"irreversible": None, "statements": [], "notes": [
                {"op": None, "error": False, "message": f"the backward SQL could not be collected ({_describe(error)})"}]}
        return {"irreversible": None, **_collected(migration, editor.collected_sql)}

    def _hook_editor(self, editor, recorder: _Recorder) -> None:
        original = editor.execute

        def execute(sql, params=()):
            if id(sql) in recorder.deferred:
                recorder.op = recorder.deferred[id(sql)]
            recorder.in_editor += 1
            try:
                return original(sql, params)
            finally:
                recorder.in_editor -= 1

        editor.execute = execute

    def _operation(self, migration, operation, editor, recorder: _Recorder, notes: list[dict], index: int) -> None:
        # Copying the project state costs as much as the models it holds; Django copies it before
        # every operation, but these operations' database_forwards never read the state before.
        needs_old = type(operation) not in _READS_ONLY_NEW_STATE
        try:
            if "apps" not in self.state.__dict__:  # a rendering of every model failed before
                render_every_model(self.state)
        except Exception:
            pass  # the operation fails below, saying why
        old_state = self.state.clone() if needs_old else self.state
        try:
            operation.state_forwards(migration.app_label, self.state)
        except Exception as error:  # the models it changes are not known (a migration before it failed)
            if needs_old:
                self.state = old_state
            else:
                forget_unrendered_model(self.state, migration.app_label, operation)
            notes.append({"op": index, "error": False,
                          "message": f"{type(operation).__name__} could not be rendered: the models it changes are "
                                     f"not known here ({_describe(error)}); it is not checked"})
            return
        atomic_operation = operation.atomic or (migration.atomic and operation.atomic is not False)
        own_transaction = not editor.atomic_migration and atomic_operation
        before = {id(s) for s in editor.deferred_sql}
        capture = _sends_data(operation)
        savepoint = self.connection.in_atomic_block and not own_transaction
        try:
            if own_transaction:
                recorder.mark("BEGIN")
                with transaction.atomic(self.connection.alias):
                    self._forwards(migration, operation, editor, old_state, recorder, capture)
                recorder.mark("COMMIT")
            elif savepoint:
                with transaction.atomic(self.connection.alias, savepoint=True, durable=False):
                    self._forwards(migration, operation, editor, old_state, recorder, capture)
            else:
                self._forwards(migration, operation, editor, old_state, recorder, capture)
        except Exception as error:
            if isinstance(error, NotSupportedError) and error.__cause__ is None:
                # Raised by Django itself (AddIndexConcurrently in an atomic migration), not by the server.
                notes.append({"op": index, "error": True, "message": f"Django refuses this operation here: {_describe(error)}"})
            else:
                notes.append({"op": index, "error": False,
                              "message": f"{type(operation).__name__} could not be rendered ({_describe(error)}); "
                                         f"it is not checked"})
            if own_transaction:
                recorder.mark("ROLLBACK")
        for statement in editor.deferred_sql:
            if id(statement) not in before:
                recorder.deferred[id(statement)] = index

    def _forwards(self, migration, operation, editor, old_state, recorder: _Recorder, capture: bool) -> None:
        # SeparateDatabaseAndState.database_forwards runs only its database_operations.
        recorder.capture_all = capture
        if isinstance(operation, RunPython) and old_state is self.state and self.state.is_delayed:
            # RunPython's code gets every model rendered afresh (ProjectState.clear_delayed_apps_cache).
            # Django's executor renders them on a copy it throws away, at every RunPython; here the
            # state keeps them, with nothing left stale, so the next RunPython need not again.
            self.state.__dict__.pop("apps", None)
            render_every_model(self.state)
            self.state.is_delayed = False
        try:
            operation.database_forwards(migration.app_label, editor, old_state, self.state)
        finally:
            recorder.capture_all = False

    def _fresh_connection(self) -> None:
        """Whatever failed, the next migration starts on a new connection: Django's connect()
        resets its transaction bookkeeping (atomic blocks, savepoints, needs_rollback)."""
        raw = self.connection.connection
        self.connection.connection = None
        if raw is not None:
            try:
                raw.close()
            except Exception:
                pass

    def _record_applied(self, migration) -> None:
        from django.db.migrations.recorder import MigrationRecorder

        try:
            if self.recorder is None:
                self.recorder = MigrationRecorder(self.connection)
            self.recorder.record_applied(migration.app_label, migration.name)
        except Exception:
            pass  # only a restarted child reads this; failing to write it costs a re-render


def _collected(migration, lines: list[str]) -> dict:
    """Statements and notes from a schema editor's collected SQL: `unapply` marks each operation,
    last first, with "--", "-- <description>", "--"; the deferred statements follow the last."""
    statements, notes = [], []
    count, marked, op = len(migration.operations), 0, None
    index = 0
    while index < len(lines):
        line = lines[index]
        if line == "--" and index + 2 < len(lines) and lines[index + 2] == "--":
            op, marked, index = count - 1 - marked, marked + 1, index + 3
            continue
        if line == "-- THIS OPERATION CANNOT BE WRITTEN AS SQL":
            operation = migration.operations[op] if op is not None else None
            if isinstance(operation, RunPython) and operation.reverse_code is RunPython.noop:
                message = "RunPython's reverse is RunPython.noop: the rows its forward code changed stay as they are"
            else:
                message = "its reverse is Python code, which cannot be written as SQL: it is not run here"
            notes.append({"op": op, "error": False, "message": message})
        elif not line.startswith("--"):
            statements.append({"sql": line, "op": op, "deferred": False})
        index += 1
    return {"statements": statements, "notes": notes}


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())[:300]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__

