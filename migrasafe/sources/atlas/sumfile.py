"""`atlas.sum`, the directory's integrity file, rewritten for files `migrasafe fix` adds or changes.

Atlas's algorithm (ariga/atlas sql/migrate/dir.go `NewHashFile`, `HashFile.MarshalText`): one
SHA-256 runs over the listed files in order, fed each file's name then its bytes; each line is the
file name and `h1:` + base64 of that running digest so far; the first line is `h1:` + base64 of a
SHA-256 over every (name, line hash) pair. Checked against real atlas.sum files in the test suite.
"""
from __future__ import annotations

import base64
import hashlib
from pathlib import Path

SUM = "atlas.sum"


def listed_names(text: str) -> list[str]:
    return [line.rsplit(" ", 1)[0] for line in text.splitlines()[1:] if line.strip()]


def sum_text(names: list[str], contents: dict[str, bytes]) -> str:
    running = hashlib.sha256()
    lines = []
    for name in names:
        running.update(name.encode("utf-8"))
        running.update(contents[name])
        lines.append((name, base64.b64encode(running.copy().digest()).decode()))
    total = hashlib.sha256()
    for name, digest in lines:
        total.update(name.encode("utf-8"))
        total.update(digest.encode())
    head = "h1:" + base64.b64encode(total.digest()).decode()
    return "\n".join([head] + [f"{name} h1:{digest}" for name, digest in lines]) + "\n"


def updated_sum(folder: Path, changed: dict[str, bytes]) -> tuple[str, str] | None:
    """(before, after) of the folder's atlas.sum once `changed` (file name → new bytes) is written;
    None when the folder has no atlas.sum. New names join the listing in name order."""
    path = folder / SUM
    if not path.is_file():
        return None
    before = path.read_text(encoding="utf-8")
    names = listed_names(before)
    added = [n for n in changed if n not in names and n.endswith(".sql")]
    if names and not any(n.endswith(".down.sql") for n in names):
        # golang-migrate format: Atlas's directory lists the up files only.
        added = [n for n in added if not n.endswith(".down.sql")]
    names = sorted(names + added) if names == sorted(names) else names + sorted(added)
    contents = {}
    for name in names:
        contents[name] = changed[name] if name in changed else (folder / name).read_bytes()
    return before, sum_text(names, contents)


def rewrite_sums(written: list[Path]) -> list[Path]:
    """After new files were written into Atlas directories: their atlas.sum, listing them too."""
    from ...plan.files import replace_file

    done = []
    for folder in sorted({p.parent for p in written}):
        new = {p.name: p.read_bytes() for p in written if p.parent == folder and p.suffix == ".sql"}
        sums = updated_sum(folder, new)
        if sums is not None and sums[0] != sums[1]:
            replace_file(folder / SUM, sums[1].encode("utf-8"))
            done.append(folder / SUM)
    return done
