"""Where a format's next migrations go: version numbers that continue the folder's own style, and
the file names its tool expects."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..sources.entries import Entry
from ..sources.registry import FORMATS
from ..sources.versions import LEADING_VERSION
from .errors import PlanError
from .writers import WRITERS, Writer


@dataclass
class VersionStyle:
    """How a folder numbers its migrations, and how to count on from its last one."""

    kind: str  # "counter", "dotted", "timestamp", "unix"
    last: str  # the last version, as written ("" when there is none)
    width: int = 0  # zero padding of a counter
    pattern: str = ""  # strftime pattern of a timestamp
    separator: str = "."  # between the parts of a dotted version

    def following(self, count: int, now: datetime) -> list[str]:
        if self.kind == "timestamp":
            step = timedelta(minutes=1) if "%S" not in self.pattern else timedelta(seconds=1)
            start = now.replace(microsecond=0)
            try:
                last = datetime.strptime(self.last, self.pattern).replace(tzinfo=now.tzinfo) if self.last else None
            except ValueError:
                last = None
            if last is not None and start <= last:
                start = last + step
            return [(start + i * step).strftime(self.pattern) for i in range(count)]
        if self.kind == "unix":
            start = max(int(now.timestamp()), int(self.last or 0) + 1)
            return [str(start + i) for i in range(count)]
        if self.kind == "dotted":
            parts = re.split(r"[._]", self.last)
            head, tail = parts[:-1], parts[-1]
            width = len(tail) if tail.startswith("0") else 0
            return [self.separator.join([*head, str(int(tail) + i + 1).zfill(width)]) for i in range(count)]
        last = int(self.last) if self.last else 0
        return [str(last + i + 1).zfill(self.width) for i in range(count)]


def _looks_like_timestamp(version: str) -> str | None:
    """The strftime pattern of a version that reads as a date and time, or None."""
    for pattern, length in (("%Y%m%d%H%M%S", 14), ("%Y%m%d%H%M", 12), ("%Y-%m-%d-%H%M%S", 17)):
        if len(version) == length:
            try:
                datetime.strptime(version, pattern)
                return pattern
            except ValueError:
                pass
    return None


def counter_style(version: str, default_width: int) -> VersionStyle:
    if not version:
        return VersionStyle("counter", "", width=default_width)
    pattern = _looks_like_timestamp(version)
    if pattern:
        return VersionStyle("timestamp", version, pattern=pattern)
    if re.fullmatch(r"1[5-9]\d{8}", version):  # seconds since 1970, as `migrate create -format unix`
        return VersionStyle("unix", version)
    if re.fullmatch(r"\d+(?:[._]\d+)+", version):
        return VersionStyle("dotted", version, separator="_" if "_" in version else ".")
    if not version.isdigit():
        raise PlanError(f"cannot continue the version numbering after {version!r}")
    return VersionStyle("counter", version, width=len(version) if version.startswith("0") else 0)


@dataclass
class Layout:
    """The folder's format, its existing migrations, and the names of new ones."""

    format: str
    root: Path
    entries: list[Entry]
    separator: str = "_"  # between version and description, in plain SQL names
    # Versions of migrations in another language (goose's Go files): new ones must come after them.
    taken: list[str] = field(default_factory=list)
    prefix: str = ""  # the migration folder below `root` (an Atlas project file naming its dir)

    @classmethod
    def of(cls, fmt: str, root: Path) -> "Layout":
        if fmt == "atlas":
            return _atlas_layout(cls, root)
        history = FORMATS[fmt].list_history(root.resolve())
        entries = [e for e in history.forward if e.kind in ("versioned", "baseline")]
        layout = cls(fmt, root, entries, taken=[e.version for e in history.code])
        if fmt == "sql":
            layout.separator = _plain_separator(entries)
        elif fmt == "sql-migrate":
            # `sql-migrate new` writes `<timestamp>-<name>.sql` (sql-migrate/command_new.go), but the
            # id is the whole file name and only its numeric prefix orders it: a history written
            # `12_name.sql` keeps its own separator.
            layout.separator = _plain_separator(entries, default="-")
        return layout

    @property
    def writer(self) -> Writer:
        return WRITERS[self.format]

    def last_version(self) -> str:
        versions = [e.version for e in self.entries if e.version] + self.taken
        return self.writer.last_version(versions) if versions else ""

    def style(self) -> VersionStyle:
        last = self.last_version()
        pattern = self.writer.first_timestamp
        if pattern and (not last or set(last.replace("-", "")) == {"0"}):
            # The tool's own generator writes timestamps (diesel's setup migration is all zeros).
            return VersionStyle("timestamp", "", pattern=pattern)
        return counter_style(last, self.writer.default_width)

    def versions(self, count: int, now: datetime | None = None) -> list[str]:
        now = now or datetime.now(timezone.utc)
        return self.style().following(count, now)

    def main_file(self, version: str, slug: str) -> str:
        """The path, relative to the folder, of the file holding the up migration."""
        return self.prefix + self.writer.main_file(version, slug, self.separator)


def _atlas_layout(cls, root: Path) -> "Layout":
    """Atlas's directory, named by atlas.hcl or holding atlas.sum, in the format atlas.hcl names: a
    directory in another tool's format gets that tool's file names and transaction opt-out."""
    from ..sources.atlas.project import find_project

    project = find_project(root.resolve())
    folder = project.dir or root.resolve()
    fmt = project.format if project.format in WRITERS and project.format in FORMATS else "atlas"
    history = FORMATS[fmt].list_history(folder)
    entries = [e for e in history.forward if e.kind in ("versioned", "baseline")]
    rel = folder.relative_to(root.resolve()) if folder.is_relative_to(root.resolve()) else Path(".")
    return cls(fmt, root, entries, prefix="" if str(rel) == "." else f"{rel.as_posix()}/")


def _plain_separator(entries: list[Entry], default: str = "_") -> str:
    for entry in reversed(entries):
        stem = entry.file.name[: -len(".sql")]
        match = LEADING_VERSION.match(stem)
        if match:
            rest = stem[match.end():]
            sep = re.match(r"[_\-. ]+", rest)
            if sep:
                return sep.group(0)
    return default
