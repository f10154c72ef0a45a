"""Plain `.sql` files run one after another (by psql or a script), in natural version order."""
from __future__ import annotations

from pathlib import Path

from .entries import Entry, History
from .formats import SourceFormat
from .transactions import Runner
from .listing import files_in, relative
from .versions import LEADING_VERSION, natural_key


def list_history(root: Path) -> History:
    files = sorted(files_in(root), key=lambda p: natural_key(p.name))
    return History(root=root, format="sql", forward=[plain_entry(root, p) for p in files])


def plain_entry(root: Path, file: Path) -> Entry:
    stem = file.name[: -len(".sql")] if file.name.endswith(".sql") else file.name
    match = LEADING_VERSION.match(stem)
    version = match.group(0) if match else ""
    description = stem[len(version) :].lstrip("_-. ") if version else stem
    return Entry(file=file, rel=relative(root, file), version=version, description=description)


FORMAT = SourceFormat(
    name="sql", list_history=list_history, preprocess=True, looks_like="plain SQL (*.sql)",
    runner=Runner(
        wraps=False,
        wrapped="plain SQL files are run in one transaction (configuration)",
        unwrapped="plain SQL files run statement by statement (autocommit) unless they open a transaction",
        whole_file_query=False,
    ),
)
