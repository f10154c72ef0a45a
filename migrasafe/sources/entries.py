"""What a format's directory listing yields, before any file is read as SQL."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Problem:
    """An input error found while listing, reported once the user's spelling of the path is known."""

    rel: str  # file the problem is in, relative to the history root
    line: int
    message: str
    fix: str = ""


@dataclass
class MissingFile:
    """A migration its tool's journal or plan lists but whose file is not there: the tool stops on it.
    Reported by migrasafe/history (listed_files.py), on the journal's or plan's line."""

    rel: str  # the journal or plan, relative to the history root
    line: int
    name: str  # the entry as the journal or plan names it
    expected: str  # the file it needs, relative to the history root


@dataclass
class Entry:
    file: Path  # resolved
    rel: str  # relative to the history root, joined to the user's path for display
    version: str
    description: str = ""
    kind: str = "versioned"
    # Format-specific facts read from the name or a companion file (dialect, .conf keys, metadata).
    options: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class History:
    root: Path  # resolved
    format: str
    forward: list[Entry] = field(default_factory=list)  # run order on a fresh database
    reverse: list[Entry] = field(default_factory=list)  # undo/down files, not part of a forward run
    # Migrations in another language that run in the same sequence (goose's Go migrations): not
    # checked, but their versions are taken.
    code: list[Entry] = field(default_factory=list)
    # Files in the history's folders the tool does not run here, with the reason (another dialect,
    # below a Flyway baseline, not in the journal, a migration in another language). Reports list them.
    skipped: dict[Path, str] = field(default_factory=dict)
    # Files the tool reads besides its migrations (configuration, journals, verify scripts): neither
    # run forward nor listed as skipped.
    companions: set[Path] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    missing: list[MissingFile] = field(default_factory=list)
