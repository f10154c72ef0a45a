"""Files inside a history's folders that no reader ran, each with the reason: nothing is skipped
silently. A README, a licence, a dotfile or a tool's own configuration, plan, journal or lock file is
not a migration and is not listed (`companion`); every other file is, with why it was not read (SQL
of another dialect, code in a migration language, a file of another kind the tool does not run, a
link to nothing, a pipe or a device)."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .entries import History
from .listing import SKIPPED_FOLDERS

# Suffixes of SQL written for another database: the tool's PostgreSQL run never sends them.
OTHER_DIALECTS = (".mysql", ".sqlite", ".sqlite3", ".mssql", ".sqlserver", ".oracle", ".cockroach", ".crdb")
LANGUAGES = {".go": "Go", ".js": "JavaScript", ".mjs": "JavaScript", ".cjs": "JavaScript",
             ".ts": "TypeScript", ".py": "Python", ".rb": "Ruby", ".java": "Java", ".kt": "Kotlin"}


# The tools' own files beside their migrations: configuration, plans, journals, locks, templates.
TOOL_FILES = {
    "alembic.ini", "env.py", "script.py.mako", "__init__.py",  # Alembic, Django
    "atlas.sum", "atlas.hcl",  # Atlas
    "sqitch.plan", "sqitch.conf",  # sqitch
    "_journal.json",  # Drizzle Kit's meta/
    "migration_lock.toml",  # Prisma
    "config.toml",  # Supabase
    "flyway.conf", "flyway.toml",  # Flyway
    "dbconfig.yml",  # sql-migrate
    "diesel.toml", "metadata.toml",  # diesel
    "liquibase.properties",  # Liquibase
}


def companion(name: str) -> bool:
    """A file that sits beside migrations without being one: never listed as not read."""
    lower = name.lower()
    return (name.startswith(".") or lower.startswith(("readme", "license", "licence")) or lower.endswith(".md")
            or lower in TOOL_FILES or lower.endswith(".sql.conf"))  # Flyway's per-script configuration


def is_code_migration(reason: str) -> bool:
    """Whether `unread_files` gave this reason for a migration written in code (not checked)."""
    return reason.endswith(_CODE_MIGRATION)


def unread_files(history: History, code_migrations: tuple[str, ...], tool: str = "") -> dict[Path, str]:
    """Every file in the folders holding the history's migrations that the reader did not claim.
    `tool`: the format's name, which the reasons name (none for the layouts no one tool runs)."""
    tool = "the tool" if tool in ("", "sql", "versioned-folders") else tool
    claimed = {e.file for e in history.forward} | {e.file for e in history.reverse}
    claimed |= set(history.skipped) | history.companions
    found = dict(history.skipped)
    folders = {history.root} | {e.file.parent for e in history.forward} | {e.file.parent for e in history.reverse}
    for folder in sorted(folders):
        if folder.name in SKIPPED_FOLDERS:
            continue
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # the listing itself reported it
        for item in sorted(entries, key=lambda e: e.name):
            path = folder / item.name
            if path in claimed or companion(item.name):
                continue
            reason = _why_unread(item, path, code_migrations, tool)
            if reason:
                found[path] = reason
    return found


def unreadable_folders(root: Path, depth: int = 8) -> list[tuple[Path, str]]:
    """Folders below a history's root that cannot be listed: whatever they hold is not read."""
    out: list[tuple[Path, str]] = []

    def walk(folder: Path, level: int) -> None:
        try:
            with os.scandir(folder) as entries:
                subs = sorted(e.name for e in entries if e.is_dir(follow_symlinks=False)
                              and not e.name.startswith(".") and e.name not in SKIPPED_FOLDERS)
        except OSError as err:
            out.append((folder, err.strerror or str(err)))
            return
        if level < depth:
            for name in subs:
                walk(folder / name, level + 1)

    walk(root, 0)
    return out


# Reasons that mean the file cannot be opened at all: an input error when its name says migration.
BROKEN = ("a symbolic link loop", "a symbolic link to a missing file", "not a regular file")


def _why_unread(item: os.DirEntry, path: Path, code_migrations: tuple[str, ...], tool: str) -> str | None:
    try:
        mode = item.stat(follow_symlinks=True).st_mode
    except OSError as err:
        if item.is_symlink():
            return BROKEN[0] if err.errno == errno.ELOOP else BROKEN[1]
        return "cannot be read"
    if stat.S_ISDIR(mode):
        return None
    if not stat.S_ISREG(mode):
        return BROKEN[2] + " (a pipe, socket or device): never opened"
    name = item.name.lower()
    suffix = os.path.splitext(name)[1]
    if suffix in code_migrations:
        # Tools that run code migrations name them with a leading version like their SQL ones;
        # other code in the tool's language (goose's embed.go, a helper module) is the package the
        # migrations are built into, a companion, not a migration.
        return f"a {LANGUAGES.get(suffix, suffix)} migration{_CODE_MIGRATION}" if name[:1].isdigit() else None
    if name.endswith(OTHER_DIALECTS) or any(f"{d}." in name for d in OTHER_DIALECTS):
        return f"SQL for another database, which {tool} does not run on PostgreSQL"
    if ".sql" in name:
        return f"not a migration in this layout: {tool} does not run it"
    if suffix in LANGUAGES:
        return f"{LANGUAGES[suffix]} code, not a migration {tool} runs"
    return f"not a migration file: {tool} does not run it"


_CODE_MIGRATION = ": migrasafe reads SQL only, so it is not checked"
