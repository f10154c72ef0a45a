"""Stand-ins for the application modules a migration imports that are not there.

Django's `makemigrations` writes references to the project's own code into migrations: custom
field classes (`saleor.core.db.fields.SanitizedJSONField`), JSON encoders, managers, validators,
`default=` callables and `RunPython` functions kept elsewhere. With only the migration folders at
hand (or the application's dependencies not installed), those imports fail. As for Alembic
revisions (../alembic/standins.py), an import that no finder can satisfy, made by a migration
file, gets a module whose names stand in for what was asked:

- a name ending in `Field` is a field class built on the nearest Django field (`…JSONField` on
  `JSONField`, `…MoneyField` on `DecimalField`, otherwise `TextField`), taking any arguments;
- `…Encoder` / `…Decoder` are the json module's own; `…Manager` is `models.Manager`;
- any other capitalised name is a class whose instances do nothing when called (validators);
- a lower-case name is a function that returns None (a `default=` callable, a `RunPython` body).

Each stand-in carries the name it stands for, so that the rendering can say which operations stand
on guesses (worker.py).
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import json
import os
import sys
import types
from contextlib import contextmanager
from typing import Callable

_FIELD_BASES = (("JSON", "JSONField"), ("Money", "DecimalField"), ("Decimal", "DecimalField"),
                ("Price", "DecimalField"), ("Measurement", "FloatField"), ("Float", "FloatField"),
                ("Integer", "IntegerField"), ("Boolean", "BooleanField"), ("DateTime", "DateTimeField"),
                ("Date", "DateField"), ("UUID", "UUIDField"), ("Country", "CharField"), ("Char", "CharField"),
                ("Email", "EmailField"), ("URL", "URLField"), ("Slug", "SlugField"), ("Array", "TextField"))

MARK = "_migrasafe_stand_in"




def is_stand_in(value) -> str | None:
    if isinstance(value, type):
        return vars(value).get(MARK)
    try:
        return object.__getattribute__(value, "__dict__").get(MARK)
    except AttributeError:
        return None


def _field_class(qualified: str, name: str):
    from django.db import models

    base_name = next((base for part, base in _FIELD_BASES if part in name), "TextField")
    base = getattr(models, base_name)
    accepted = _parameters(base)

    def __init__(self, *args, **kwargs):
        # Arguments of the real class that the stand-in's base does not know are dropped.
        kwargs = {k: v for k, v in kwargs.items() if k in accepted}
        if base_name == "DecimalField":
            kwargs.setdefault("max_digits", 20)
            kwargs.setdefault("decimal_places", 4)
        base.__init__(self, *args[:1], **kwargs)

    return type(name, (base,), {"__init__": __init__, MARK: qualified, "__module__": qualified.rpartition(".")[0],
                                "_migrasafe_base": base_name})


def _parameters(base) -> set[str]:
    import inspect

    names: set[str] = set()
    for klass in base.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        try:
            names.update(inspect.signature(init).parameters)
        except (TypeError, ValueError):
            continue
    return names - {"self", "args", "kwargs"}


class _StandInType(type):
    """Class attributes of a stand-in class (`CountryCodes.CHOICES`) are stand-ins too."""

    def __getattr__(cls, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return make(vars(cls)[MARK], name)

    def __iter__(cls):
        return iter(())


def _do_nothing_class(qualified: str, name: str):
    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return None

    def __eq__(self, other):
        return type(self) is type(other)

    return _StandInType(name, (), {"__init__": __init__, "__call__": __call__, "__eq__": __eq__,
                                   "__hash__": object.__hash__, "__iter__": lambda self: iter(()),
                                   MARK: qualified, "__module__": qualified.rpartition(".")[0],
                                   "deconstruct": lambda self: (qualified, [], {})})


class StandInCallable:
    """A lower-case name: a function, or an object used through its attributes (`app.task`).

    Called by Django with nothing (a `default=` callable) it returns None: the value is not known;
    used as a decorator (one callable argument) it returns what it decorates; otherwise another
    stand-in (`app.task()` then decorates)."""

    def __init__(self, qualified: str):
        setattr(self, MARK, qualified)
        self.__name__ = self.__qualname__ = qualified.rpartition(".")[2]
        self.__module__ = qualified.rpartition(".")[0]

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        # `module.fields.SanitizedJSONField` read before `module.fields` was imported: the same
        # stand-ins as the module's own names.
        value = make(getattr(self, MARK), name)
        object.__setattr__(self, name, value)
        return value

    def __iter__(self):
        return iter(())  # choices=, a list of names: none known

    def __call__(self, *args, **kwargs):
        if not args and not kwargs and _called_by_django():
            return None
        if len(args) == 1 and not kwargs and callable(args[0]):
            return args[0]
        return StandInCallable(f"{getattr(self, MARK)}()")

    def deconstruct(self):
        return getattr(self, MARK), [], {}


def _called_by_django() -> bool:
    caller = sys._getframe(2).f_code.co_filename
    return f"{os.sep}django{os.sep}" in caller


def _function(qualified: str, name: str):
    return StandInCallable(qualified)


class MissingSettings:
    """Django's global settings, and a stand-in (None) for a project setting that is not there:
    migrations read the project's own settings (`settings.DEFAULT_CURRENCY_CODE_LENGTH`) at import."""

    def __init__(self, defaults):
        self._defaults = defaults
        self.missing: list[str] = []

    def __getattr__(self, name: str):
        try:
            return getattr(self._defaults, name)
        except AttributeError:
            if not name.isupper():
                raise
            if name not in self.missing:
                self.missing.append(name)
            return None


def make(module: str, name: str):
    qualified = f"{module}.{name}"
    if name.endswith("Field"):
        return _field_class(qualified, name)
    if name.endswith("Encoder"):
        return type(name, (json.JSONEncoder,), {MARK: qualified})
    if name.endswith("Decoder"):
        return type(name, (json.JSONDecoder,), {MARK: qualified})
    if name.endswith("Manager"):
        from django.db import models

        return type(name, (models.Manager,), {MARK: qualified, "__module__": module})
    if name[:1].isupper():
        return _do_nothing_class(qualified, name)
    return _function(qualified, name)


class StandInModule(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        value = make(self.__name__, name)
        setattr(self, name, value)  # the same object each time it is asked for
        return value


def project_package(name: str, folder: str) -> StandInModule:
    """A folder of the project that is only there to hold apps (no __init__.py, or code that is
    not here): submodules are found in the folder, any other name is a stand-in."""
    module = StandInModule(name)
    module.__path__ = [folder]
    module.__file__ = None
    sys.modules[name] = module
    return module


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        module = StandInModule(spec.name)
        module.__path__ = []  # a package, so `import missing.sub` works too
        return module

    def exec_module(self, module):
        pass


class StandInFinder(importlib.abc.MetaPathFinder):
    """Last on sys.meta_path: answers only for imports no other finder could satisfy, made by a
    migration file (Django's own optional imports still fail as they should)."""

    def __init__(self, is_migration: Callable[[str], bool]):
        self.is_migration = is_migration
        self.created: list[str] = []

    def find_spec(self, fullname, path, target=None):
        importer = _importer_file()
        if importer is None or not self.is_migration(importer):
            return None
        self.created.append(fullname)
        return importlib.util.spec_from_loader(fullname, _Loader(), is_package=True)


def _importer_file() -> str | None:
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith("<frozen importlib") and name != __file__:
            return name
        frame = frame.f_back
    return None


@contextmanager
def stand_ins(is_migration: Callable[[str], bool]):
    finder = StandInFinder(is_migration)
    sys.meta_path.append(finder)
    try:
        yield finder
    finally:
        sys.meta_path.remove(finder)
