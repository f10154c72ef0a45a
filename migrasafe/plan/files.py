"""Writing new files into the user's folder: atomically, and never over an existing file."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import PlanError


def write_new_files(folder: Path, files: list[tuple[str, str]]) -> list[Path]:
    """Create every (relative path, text) under `folder`, or none of them.

    Each file appears whole or not at all (written aside, then linked into place), and a name
    that already exists stops the write before anything is created.
    """
    targets = [(folder / rel, text) for rel, text in files]
    for target, _ in targets:
        if target.exists() or target.is_symlink():
            raise PlanError(f"{target} already exists; nothing was written")
    created: list[Path] = []
    try:
        for target, text in targets:
            if not target.parent.exists():
                target.parent.mkdir()
                created.append(target.parent)
            create_file(target, text.encode("utf-8"))
            created.append(target)
    except BaseException:
        for path in reversed(created):
            try:
                path.rmdir() if path.is_dir() else path.unlink()
            except OSError:
                pass
        raise
    return [t for t, _ in targets]


def create_file(target: Path, data: bytes) -> None:
    """Write `data` to a new file `target`; PlanError if it exists by the time it is created."""
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".migrasafe-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        try:
            os.link(temporary, target)  # fails when the name exists: never replaces a file
        except FileExistsError:
            raise PlanError(f"{target} already exists; it was left as it is") from None
        except OSError:
            # Some file systems have no hard links; exclusive creation still never replaces a file.
            with open(target, "xb") as handle:
                handle.write(data)
    finally:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass


def replace_file(target: Path, data: bytes) -> None:
    """Replace the contents of an existing file in one step, keeping its permissions."""
    mode = target.stat().st_mode & 0o7777
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".migrasafe-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
