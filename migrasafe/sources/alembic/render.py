"""Render one revision's upgrade() (or downgrade()) to SQL offline, keeping where each statement was written.

The migration context is Alembic's own in `as_sql` mode for PostgreSQL (what
`alembic upgrade --sql` uses), made here rather than by the project's env.py. Its output goes to
a `Recorder`, which notes for each piece of SQL the innermost line of the revision file on the
call stack: the `op.*` call, `op.execute`, or `conn.execute` that produced it. Statements from a
`batch_alter_table` are emitted when the `with` block ends, so each batch entry keeps the line of
its own `batch_op.*` call instead.

The revision's `op` is wrapped so that an operation that raises costs only itself; code outside
an operation that raises (a query result that is needed, `sa.inspect()`, a stand-in used for
real) ends the rendering there. Either way a note says what was not rendered.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import CodeType, FrameType, ModuleType, TracebackType
from typing import Callable

import alembic.op
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.exc import NoInspectionAvailable

from ...sandbox import Refused
from .bind import NeedsDatabase, OfflineBind
from .standins import StandIn, Unavailable, type_rendered

# Operations that do not emit SQL and whose results the revision uses as they are.
_PASSTHROUGH = {"get_bind", "get_context", "f", "inline_literal", "invoke", "implementation_for",
                "register_operation", "run_async"}
_MESSAGE_LIMIT = 240


@dataclass(frozen=True)
class Position:
    line: int
    end_line: int
    column: int  # 1-based


@dataclass
class Chunk:
    sql: str
    position: Position


READ_BY_HAND = "read this part of the revision by hand: its SQL is not part of the check"
INSTALL = ("install the application and its dependencies where migrasafe runs, or list their folders in "
           "[tool.migrasafe.alembic] sys_path")


@dataclass
class Note:
    position: Position
    message: str
    fix: str = READ_BY_HAND
    # The revision cannot run as written (it ends the process that runs it): an input error,
    # not a part left unchecked.
    input_error: bool = False


@dataclass
class Rendering:
    chunks: list[Chunk] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


class Recorder:
    """Collects the SQL of one revision with the position of the code that produced it."""

    def __init__(self, filename: str, missing_modules: Callable[[], list[str]] = list, function: str = "upgrade"):
        self.filename = filename  # the revision's code objects' co_filename
        self.function = function  # the one being rendered, for notes
        self.missing_modules = missing_modules
        self.rendering = Rendering()
        self.pinned: Position | None = None
        self._tables: dict[CodeType, list] = {}
        self._noted: set[tuple[int, str]] = set()
        self.rows_were_read = False

    def output(self, sql: str) -> None:
        sql = sql.strip()
        if sql:
            self.rendering.chunks.append(Chunk(sql, self.pinned or self.here()))

    def note(self, message: str, position: Position | None = None, fix: str = READ_BY_HAND,
             input_error: bool = False) -> None:
        position = position or self.here()
        if (position.line, message) not in self._noted:
            self._noted.add((position.line, message))
            self.rendering.notes.append(Note(position, message, fix, input_error))

    def stand_in_type(self, stand_in: StandIn) -> None:
        self.note(f"column type {stand_in.type_name} comes from {stand_in.package}, which is not installed "
                  f"here: it is rendered under that name, so what depends on the real type is not known",
                  fix=INSTALL)

    def rows_unknown(self) -> None:
        self.rows_were_read = True
        self.note("rows read from the database here are not known offline: the code that uses them "
                  "was rendered as if the query returned none")

    def here(self) -> Position:
        frame: FrameType | None = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != self.filename:
            frame = frame.f_back
        if frame is None:
            return Position(1, 1, 1)
        return self._position(frame.f_code, frame.f_lasti, frame.f_lineno)

    def stopped(self, error: BaseException) -> None:
        """upgrade() (or downgrade()) raised: note where, and why, rendering ended."""
        self.note(f"{self.describe(error)}; {self.function}() is checked only up to this line", self._raised_at(error),
                  fix=INSTALL if isinstance(error, Unavailable) else READ_BY_HAND)

    def exited(self, error: SystemExit) -> None:
        """upgrade() (or downgrade()) called sys.exit(): Alembic's own run would end there too."""
        self.note(f"{self.function}() calls sys.exit({error.code!r}) here, which would end the Alembic run that "
                  f"applies it; what it rendered before this line is checked, the rest of the revision is not",
                  self._raised_at(error),
                  fix="revision code must not end the process that runs it: raise an exception instead",
                  input_error=True)

    def _raised_at(self, error: BaseException) -> Position:
        """The innermost line of the revision file in the error's traceback."""
        position = Position(1, 1, 1)
        tb: TracebackType | None = error.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.filename:
                position = self._position(tb.tb_frame.f_code, tb.tb_lasti, tb.tb_lineno)
            tb = tb.tb_next
        return position

    def describe(self, error: BaseException) -> str:
        if isinstance(error, (Unavailable, NeedsDatabase, Refused)):
            return str(error)
        if isinstance(error, NoInspectionAvailable):
            return ("this line inspects the live database's schema (sqlalchemy.inspect() or autoload_with), "
                    "which an offline rendering does not have")
        text = " ".join(str(error).split())
        if len(text) > _MESSAGE_LIMIT:
            text = text[: _MESSAGE_LIMIT - 1] + "…"
        message = f"{type(error).__name__}: {text}" if text else type(error).__name__
        if self.rows_were_read:
            message += " (offline, every query returned no rows)"
        missing = self.missing_modules()
        if missing:
            message += f" (not installed here: {', '.join(missing)})"
        return message

    def _position(self, code: CodeType, lasti: int, lineno: int | None) -> Position:
        table = self._tables.get(code)
        if table is None:
            table = self._tables[code] = list(code.co_positions())
        index = lasti // 2
        line, end_line, column, _ = table[index] if 0 <= index < len(table) else (None, None, None, None)
        line = line or lineno or 1
        return Position(line, max(end_line or line, line), (column or 0) + 1)


class ContainedOps:
    """The revision's `op` (or a `batch_op`): each operation that raises is noted and skipped."""

    def __init__(self, operations: Operations, recorder: Recorder, prefix: str = "op"):
        self._operations = operations
        self._recorder = recorder
        self._prefix = prefix

    def __getattr__(self, name: str):
        try:
            target = getattr(self._operations, name)
        except AttributeError:
            return self._missing(name)
        if name == "batch_alter_table":
            return self._batch_alter_table
        if name.startswith("_") or name in _PASSTHROUGH or not callable(target):
            return target
        return self._contained(name, target)

    def _contained(self, name: str, operation: Callable) -> Callable:
        def call(*args, **kwargs):
            try:
                return operation(*args, **kwargs)
            except Exception as error:
                stand_in = next((a for a in (*args, *kwargs.values()) if isinstance(a, StandIn)), None)
                why = stand_in.unavailable() if stand_in is not None else error
                self._recorder.note(f"{self._prefix}.{name}() could not be rendered "
                                    f"({self._recorder.describe(why)}); it is not checked",
                                    fix=INSTALL if isinstance(why, Unavailable) else READ_BY_HAND)
                return None

        return call

    def _missing(self, name: str) -> Callable:
        def call(*args, **kwargs):
            missing = self._recorder.missing_modules()
            why = f" (not installed here: {', '.join(missing)})" if missing else ""
            self._recorder.note(f"{self._prefix}.{name}() is not an Alembic operation; a plugin that "
                                f"registers it was not loaded{why}. It is not checked",
                                fix="install the plugin where migrasafe runs and import it in the revision, "
                                    "or read this operation by hand")

        return call

    @contextmanager
    def _batch_alter_table(self, *args, **kwargs):
        with self._operations.batch_alter_table(*args, **kwargs) as batch_op:
            batch_op.impl.batch = BatchEntries(self._recorder)
            try:
                yield ContainedOps(batch_op, self._recorder, prefix="batch_op")
            finally:
                self._recorder.pinned = None


class BatchEntries(list):
    """A batch's list of pending operations that remembers where each was called."""

    def __init__(self, recorder: Recorder):
        super().__init__()
        self.recorder = recorder
        self.positions: list[Position] = []

    def append(self, entry) -> None:
        super().append(entry)
        self.positions.append(self.recorder.here())

    def __iter__(self):
        for entry, position in zip(list.__iter__(self), self.positions):
            self.recorder.pinned = position
            try:
                yield entry
            finally:
                self.recorder.pinned = None


def offline_context(recorder: Recorder) -> MigrationContext:
    context = MigrationContext.configure(
        dialect_name="postgresql",
        # paramstyle "named" as in Alembic's own env.py template, so `%` stays `%` in the SQL.
        dialect_opts={"paramstyle": "named"},
        opts={"as_sql": True, "output_buffer": _Discard(), "literal_binds": True},
    )
    context.impl.static_output = recorder.output
    bind = OfflineBind(context.dialect, run=context.impl._exec, output=recorder.output,
                       rows_unknown=recorder.rows_unknown)
    context.connection = context.impl.connection = bind
    return context


def render_upgrade(module: ModuleType, recorder: Recorder, config=None, script_directory=None) -> Rendering:
    return render_function(module, recorder, config, script_directory, "upgrade")


def render_downgrade(module: ModuleType, recorder: Recorder, config=None, script_directory=None) -> Rendering:
    """What `alembic downgrade --sql` sends for this revision (migrasafe verify's backward part)."""
    return render_function(module, recorder, config, script_directory, "downgrade")


def render_function(module: ModuleType, recorder: Recorder, config, script_directory, name: str) -> Rendering:
    function = getattr(module, name, None)
    if not callable(function):
        recorder.note(f"the revision has no {name}() function, so Alembic cannot run it")
        return recorder.rendering
    context = offline_context(recorder)
    environment = EnvironmentContext(config, script_directory, as_sql=True, dialect_name="postgresql")
    environment._migration_context = context
    told = type_rendered.set(recorder.stand_in_type)
    try:
        with Operations.context(context) as operations, environment, _own_op(module, ContainedOps(operations, recorder)):
            try:
                function()
            except SystemExit as error:
                recorder.exited(error)
            except Exception as error:
                recorder.stopped(error)
    finally:
        type_rendered.reset(told)
    return recorder.rendering


@contextmanager
def _own_op(module: ModuleType, contained: ContainedOps):
    """The revision's `op` global(s) point at the contained operations while it renders."""
    names = [name for name, value in vars(module).items() if value is alembic.op]
    for name in names:
        setattr(module, name, contained)
    try:
        yield
    finally:
        for name in names:
            setattr(module, name, alembic.op)


class _Discard:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass
