"""diesel: one folder per migration, <version>_<name>/up.sql, optional metadata.toml."""
from __future__ import annotations

from pathlib import Path

from ..config import Config
from .entries import Entry, History, Problem
from .formats import Prepared, SourceFormat
from .listing import subfolders
from .reading import UnreadableFile, read_text
from .transactions import Marker, Runner
from .versions import string_key


def is_migration_folder(folder: Path) -> bool:
    return (folder / "up.sql").is_file()


def version_of(folder_name: str) -> str:
    """As written; diesel itself compares it with the dashes removed (see `run_order`)."""
    return folder_name.split("_", 1)[0]


def run_order(entry: Entry) -> tuple[str, str]:
    return string_key(entry.version.replace("-", ""), entry.rel)


def list_history(root: Path) -> History:
    history = History(root=root, format="diesel")
    for folder in subfolders(root):
        if not is_migration_folder(folder):
            continue
        name = folder.name
        description = name.split("_", 1)[1] if "_" in name else ""
        entry = Entry(file=folder / "up.sql", rel=f"{name}/up.sql", version=version_of(name),
                      description=description)
        _read_metadata(entry, folder)
        history.forward.append(entry)
        down = folder / "down.sql"
        if down.is_file():
            history.reverse.append(Entry(file=down, rel=f"{name}/down.sql", version=entry.version,
                                         description=description, kind="undo"))
    history.forward.sort(key=run_order)
    history.reverse.sort(key=run_order)
    return history


def _read_metadata(entry: Entry, folder: Path) -> None:
    path = folder / "metadata.toml"
    if not path.is_file():
        return
    import tomllib  # only for diesel folders that have a metadata.toml

    rel = f"{folder.name}/metadata.toml"
    try:
        data = tomllib.loads(read_text(path))
    except UnreadableFile as err:
        entry.problems.append(Problem(rel, err.line, err.message))
        return
    except tomllib.TOMLDecodeError as err:
        # diesel falls back to its defaults when the file does not parse, silently.
        entry.problems.append(Problem(
            rel, 1, f"diesel ignores this metadata.toml, which is not valid TOML ({err}),"
            " and runs the migration in a transaction",
        ))
        return
    value = data.get("run_in_transaction")
    if value is None:
        return
    if not isinstance(value, bool):
        entry.problems.append(Problem(
            rel, 1, f"run_in_transaction must be true or false, not {value!r}; diesel then ignores"
            " the whole file and runs the migration in a transaction",
        ))
        return
    entry.options["run_in_transaction"] = value


def prepare(entry: Entry, text: str, config: Config, display: str) -> Prepared:
    value = entry.options.get("run_in_transaction")
    if value is None:
        return Prepared(text)
    reason = f"metadata.toml sets run_in_transaction = {str(value).lower()}"
    return Prepared(text, marker=Marker(value, reason))


def detect(folder: Path) -> bool:
    return any(is_migration_folder(sub) for sub in subfolders(folder))


FORMAT = SourceFormat(
    name="diesel", list_history=list_history, prepare=prepare, detect=detect,
    looks_like="diesel (<version>_<name>/up.sql)",
    outside_transaction='move it to its own migration with run_in_transaction = false in metadata.toml',
    runner=Runner(
        wraps=True,
        wrapped="diesel runs each migration in a transaction",
        unwrapped="diesel runs this migration without a transaction",
        whole_file_query=True,
    ),
)
