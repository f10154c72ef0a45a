"""graphile-migrate: `migrations/committed/NNNNNN[-name].sql` with `--!` headers, `current.sql` in progress.

Semantics from graphile-migrate's README and source (graphile/migrate `src/migration.ts`,
`src/actions/migrate.ts`): committed migrations are numbered files applied in number order; each
starts with header lines `--! Previous: sha1:<hash>` (`-` for the first), `--! Hash: sha1:<hash>`
and optionally `--! Message: <text>` / `--! AllowInvalidHash`, then a blank line and the body.
graphile-migrate refuses to run when a file's Previous is not the Hash of the file before it, or
when its Hash is not `sha1:` + sha1 of `(<previous hash> + "\n" + <body>).trim() + "\n"`
(`src/hash.ts`, `calculateHash`) unless AllowInvalidHash is set. Each body is sent with ONE
`query` call inside BEGIN ... COMMIT (`runStringMigration`); a body whose first line is
`--! no-transaction` leaves out BEGIN/COMMIT, but is still one query, which PostgreSQL runs as one
implicit transaction when it holds more than one statement: CONCURRENTLY then fails.

`current.sql` (or the `current/` folder) is the migration being written: `graphile-migrate watch`
runs it, `migrate` never does. It is checked only when named on the command line, after the
committed ones.

The history root is the folder with `.gmrc` / `.gmrc.js` (its `migrations/` folder is read, or the
`migrationsFolder` a `.gmrc` names), the `migrations` folder itself, or a `committed/` folder
named directly.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..config import Config
from . import findings
from .entries import Entry, History, Problem
from .formats import Prepared, SourceFormat
from .listing import files_in, relative, sniff
from .reading import UnreadableFile, read_text
from .transactions import Marker, Runner

FILE_NAME = re.compile(r"^([0-9]{6,})(-[-_a-zA-Z0-9]*)?\.sql$")
# Header lines: `--! Key: value`, or the bare `--! AllowInvalidHash`; `--! no-transaction` is the
# body's first line, not a header.
HEADER = re.compile(r"^--!\s*(?:([A-Za-z]+):\s?(.*?)|(AllowInvalidHash))\s*$")
NO_TRANSACTION = re.compile(r"^--!\s*no-transaction\b")
SETTINGS = (".gmrc", ".gmrc.js", ".gmrc.cjs")
WORK_IN_PROGRESS = "graphile-migrate's work in progress: `migrate` never runs it (checked only when named)"


def settings_of(root: Path) -> dict:
    """`.gmrc` in the history root or up to two folders above it (JSON with comments; `.gmrc.js`
    is code, not read); {} when there is none or it does not parse."""
    import json

    for folder in (root, root.parent, root.parent.parent):
        settings = folder / ".gmrc"
        if settings.is_file():
            text = re.sub(r"/\*.*?\*/", "", sniff(settings), flags=re.S)
            text = re.sub(r"(?m)^\s*//.*$", "", text)
            text = re.sub(r",(\s*[}\]])", r"\1", text)
            try:
                data = json.loads(text)
            except ValueError:
                return {}
            return {"folder": folder, **data} if isinstance(data, dict) else {}
    return {}


def migrations_folder(root: Path) -> Path:
    """`migrationsFolder` from `.gmrc`, else graphile-migrate's default `migrations`."""
    settings = settings_of(root)
    folder = settings.get("migrationsFolder")
    if isinstance(folder, str) and folder and settings["folder"] == root:
        return (root / folder).resolve()
    return root / "migrations"


def placeholders_of(root: Path) -> list[str]:
    """The placeholders graphile-migrate replaces in a body: its two own and `.gmrc`'s."""
    names = [":DATABASE_NAME", ":DATABASE_OWNER"]
    extra = settings_of(root).get("placeholders")
    if isinstance(extra, dict):
        names += [k for k in extra if isinstance(k, str) and re.fullmatch(r":[A-Z][A-Z0-9_]*", k)]
    return sorted(set(names), key=len, reverse=True)


def committed_folder(root: Path) -> Path:
    for candidate in (migrations_folder(root) / "committed", root / "committed"):
        if candidate.is_dir():
            return candidate
    return root


def list_history(root: Path) -> History:
    history = History(root=root, format="graphile-migrate")
    committed = committed_folder(root)
    previous_hash, previous_rel = "-", ""
    placeholders = placeholders_of(root)
    for path in sorted(files_in(committed), key=lambda p: (_number(p.name), p.name)):
        match = FILE_NAME.match(path.name)
        if not match:
            history.skipped[path] = "graphile-migrate runs only committed files named NNNNNN[-name].sql"
            continue
        entry = Entry(file=path, rel=relative(root, path), version=match.group(1),
                      description=(match.group(2) or "").lstrip("-"))
        headers = _headers(path, entry)
        entry.options["headers"] = headers
        entry.options["placeholders"] = placeholders
        history.forward.append(entry)
        previous = headers.get("previous")
        if previous is not None and previous != previous_hash:
            expected = "'-' (it is the first migration)" if previous_hash == "-" else f"{previous_hash} ({previous_rel})"
            history.problems.append(Problem(
                entry.rel, headers.get("previous_line", 1),
                f"graphile-migrate refuses to migrate: '--! Previous: {previous}' does not match the hash of the"
                f" migration before it, {expected}",
                "do not edit or reorder committed migrations; uncommit and commit again",
            ))
        body = headers.pop("body", None)
        recorded = headers.get("hash")
        if body is not None and recorded and "allowinvalidhash" not in headers:
            computed = _hash(body, None if previous in (None, "-") else previous)
            if computed != recorded:
                history.problems.append(Problem(
                    entry.rel, headers.get("hash_line", 2),
                    f"graphile-migrate refuses to migrate: the file's body hashes to {computed}, not to its"
                    f" '--! Hash: {recorded}' (the committed migration was edited)",
                    "revert the edit and put the change in current.sql, or add '--! AllowInvalidHash'"))
        previous_hash, previous_rel = headers.get("hash", previous_hash), entry.rel
    migrations = committed.parent if committed.name == "committed" else None
    if migrations is not None:
        _work_in_progress(migrations, history)
    return history


def _number(name: str) -> int:
    match = FILE_NAME.match(name)
    return int(match.group(1)) if match else -1


def _work_in_progress(migrations: Path, history: History) -> None:
    last = history.forward[-1].version if history.forward else ""
    current = migrations / "current.sql"
    if current.is_file():
        # Kept among the backward parts, after the last committed version, so that a named
        # current.sql is checked after every committed migration; never part of a forward run.
        entry = Entry(file=current, rel=relative(history.root, current), version=last,
                      description="current", kind="current")
        history.reverse.append(entry)
        history.skipped[current] = WORK_IN_PROGRESS
    folder = migrations / "current"
    if folder.is_dir():
        # Folder mode: graphile-migrate runs the files in name order as one migration.
        for path in files_in(folder):
            history.reverse.append(Entry(file=path, rel=relative(history.root, path), version=last,
                                         description="current", kind="current"))
            history.skipped[path] = WORK_IN_PROGRESS


def _hash(body: str, previous: str | None) -> str:
    import hashlib

    return "sha1:" + hashlib.sha1((((previous or "") + "\n" + body).strip() + "\n").encode("utf-8")).hexdigest()


def _headers(path: Path, entry: Entry) -> dict:
    """The header lines before the first blank line, where the body starts, and the body."""
    try:
        text = read_text(path)
    except UnreadableFile:
        return {"body_line": 0}  # reported when the file is read for analysis
    headers = _headers_of_text(text)
    headers["body"] = "\n".join(text.split("\n")[headers["body_line"]:])
    if "previous" not in headers or "hash" not in headers:
        entry.problems.append(Problem(
            entry.rel, 1, "graphile-migrate refuses this committed migration: it has no '--! Previous:' and"
            " '--! Hash:' header lines", "commit migrations with `graphile-migrate commit`"))
    return headers


def prepare(entry: Entry, text: str, config: Config, display: str) -> Prepared:
    headers = entry.options.get("headers")
    if headers is None:  # current.sql: its own header lines, if any
        headers = _headers_of_text(text)
    start = headers.get("body_line", 0)
    lines = text.split("\n")
    body = "\n".join(lines[start:])
    names = entry.options.get("placeholders") or placeholders_of(entry.file.parent.parent)
    body, notes = _stand_ins(body, names, start, display)
    marker = None
    if start < len(lines) and NO_TRANSACTION.match(lines[start]):
        marker = Marker(False, "'--! no-transaction' makes graphile-migrate leave out its BEGIN/COMMIT")
    return Prepared(body, line_offset=start, marker=marker, findings=notes)


def _stand_ins(body: str, names: list[str], offset: int, display: str):
    """graphile-migrate replaces its placeholders by plain text before sending the body
    (`generatePlaceholderReplacement`); here each becomes an identifier of the same length."""
    if ":" not in body:
        return body, []
    pattern = re.compile("(?:" + "|".join(re.escape(n) for n in names) + r")\b")
    notes, seen = [], set()
    for match in pattern.finditer(body):
        line = offset + body.count("\n", 0, match.start()) + 1
        if (match.group(0), line) not in seen:
            seen.add((match.group(0), line))
            notes.append(findings.placeholder_substituted(
                display, line, f"graphile-migrate placeholder {match.group(0)} is replaced at run time; checked with"
                f" the identifier _{match.group(0)[1:]} in its place"))
    return pattern.sub(lambda m: "_" + m.group(0)[1:], body), notes


def _headers_of_text(text: str) -> dict:
    headers: dict = {}
    lines = text.split("\n")
    body = 0
    for number, line in enumerate(lines):
        match = HEADER.match(line.rstrip("\r"))
        if not match:
            break
        key = (match.group(1) or match.group(3)).lower()
        headers[key] = (match.group(2) or "").strip()
        headers[f"{key}_line"] = number + 1
        body = number + 1
    if body and body < len(lines) and not lines[body].strip():
        body += 1  # the blank line after the headers
    headers["body_line"] = body
    return headers


def _is_committed(folder: Path) -> bool:
    return any(FILE_NAME.match(p.name) and "--! Previous" in sniff(p, 1024) for p in files_in(folder))


def root_of(folder: Path) -> Path | None:
    """The migrations folder above `current/`, so a file of it named alone follows the committed ones."""
    if folder.name == "current" and (folder.parent / "committed").is_dir():
        return folder.parent
    return None


def detect(folder: Path) -> bool:
    if any((folder / name).is_file() for name in SETTINGS):
        migrations = migrations_folder(folder)
        return (migrations / "committed").is_dir() or (migrations / "current.sql").is_file()
    if (folder / "committed").is_dir():
        return _is_committed(folder / "committed")
    return folder.name == "committed" and _is_committed(folder)


FORMAT = SourceFormat(
    name="graphile-migrate", list_history=list_history, prepare=prepare, detect=detect, root_of=root_of,
    looks_like="graphile-migrate (migrations/committed/NNNNNN.sql with '--! Previous' headers, .gmrc)",
    outside_transaction="put it alone in its own migration whose body starts with '--! no-transaction'",
    runner=Runner(
        wraps=True,
        wrapped="graphile-migrate runs each committed migration in a transaction",
        unwrapped="graphile-migrate runs this migration without a transaction",
        whole_file_query=True,
    ),
)
