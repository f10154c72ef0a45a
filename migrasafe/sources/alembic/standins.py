"""Stand-ins for modules a revision imports that are not installed where migrasafe runs.

Revisions import the application (`from myapp.models import Base`) or plugins
(`alembic_postgresql_enum`). When one of those cannot be found, the revision still loads: each
name it takes from the missing module is a `StandIn`, which can be passed around and called but
refuses every use whose result matters (as text, as a truth value, as a column type in DDL, ...)
by raising `Unavailable`. The code around it is then reported as not rendered instead of being
rendered from a guess. Used as a column type, a stand-in renders as its own name (`TZDateTime`),
which is reported too: the table and its other columns are still known.

Only imports written in a revision file itself get stand-ins; a missing dependency of an
installed package fails as it would anywhere.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import types
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable

from sqlalchemy.types import UserDefinedType


class Unavailable(Exception):
    """A stand-in was used where its real value matters."""


# Told each time a stand-in is rendered as a column type, so the rendering can say so.
type_rendered: ContextVar[Callable[["StandIn"], None] | None] = ContextVar("type_rendered", default=None)


class StandIn(UserDefinedType):
    # A type engine, so that `sa.Column("at", TZDateTime())` still builds: a table whose column
    # type is missing is still created, and what depends on the real type is reported unknown.
    cache_ok = False

    # Parameter names match the attributes: SQLAlchemy copies types by calling the constructor
    # with the attributes its parameters name.
    def __init__(self, _module: str = "a module", _path: str = "a name"):
        self._module = _module  # the missing module it was taken from: "myapp.db.types"
        self._path = _path  # the names after it: "TZDateTime", "Config.as_mutable"

    def __getattr__(self, attr: str):
        if attr.startswith("_"):
            raise AttributeError(attr)
        return StandIn(self._module, f"{self._path}.{attr}")

    def __call__(self, *args, **kwargs):
        return self  # `TZDateTime()` stands for the same missing thing as `TZDateTime`

    @property
    def qualified_name(self) -> str:
        return f"{self._module}.{self._path}"

    @property
    def package(self) -> str:
        return self._module.partition(".")[0]

    @property
    def type_name(self) -> str:
        return self._path.partition(".")[0]

    def unavailable(self) -> Unavailable:
        return Unavailable(f"{self.qualified_name} comes from {self.package}, which is not installed here")

    def get_col_spec(self, **kw):
        told = type_rendered.get()
        if told is not None:
            told(self)
        return self.type_name

    def __str__(self):
        raise self.unavailable()

    def __format__(self, spec):
        raise self.unavailable()

    def __bool__(self):
        raise self.unavailable()

    def __iter__(self):
        raise self.unavailable()

    def __len__(self):
        raise self.unavailable()

    def __mro_entries__(self, bases):
        raise self.unavailable()

    def _refuse(self, *args):
        raise self.unavailable()

    # Comparisons and arithmetic would compute SQL from a value nobody knows.
    __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _refuse
    __mod__ = __rmod__ = __int__ = __float__ = __index__ = _refuse

    def __repr__(self):
        return f"<stand-in for {self.qualified_name}>"


class StandInModule(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return StandIn(self.__name__, name)


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        module = StandInModule(spec.name)
        module.__path__ = []  # a package, so `import missing.sub` works too
        return module

    def exec_module(self, module):
        pass


class StandInFinder(importlib.abc.MetaPathFinder):
    """Last on sys.meta_path: answers only for imports no other finder could satisfy."""

    def __init__(self, is_revision: Callable[[str], bool]):
        self.is_revision = is_revision  # by the importing code's file name
        self.created: list[str] = []
        self.by_file: dict[str, set[str]] = {}  # revision file → top-level modules it lacks

    def find_spec(self, fullname, path, target=None):
        importer = _importer_file()
        if importer is None or not self.is_revision(importer):
            return None
        self.created.append(fullname)
        self.by_file.setdefault(importer, set()).add(fullname.partition(".")[0])
        return importlib.util.spec_from_loader(fullname, _Loader(), is_package=True)

    def missing_modules(self, filename: str) -> list[str]:
        return sorted(self.by_file.get(filename, ()))

    def forget(self) -> None:
        """Drop the stand-in modules, so the next revision's imports are looked up afresh."""
        for name in self.created:
            module = sys.modules.get(name)
            if isinstance(module, StandInModule):
                del sys.modules[name]
        self.created = []


def _importer_file() -> str | None:
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith("<frozen importlib") and name != __file__:
            return name
        frame = frame.f_back
    return None


@contextmanager
def stand_ins(is_revision: Callable[[str], bool]):
    finder = StandInFinder(is_revision)
    sys.meta_path.append(finder)
    try:
        yield finder
    finally:
        sys.meta_path.remove(finder)
        finder.forget()
