"""Flyway SQL migrations: V<version>__<desc>.sql, R__, U (undo), B (baseline), per-script .conf."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..model import Finding, Statement
from . import findings
from .entries import Entry, History, Problem
from .formats import Prepared, SourceFormat
from .listing import files_in, relative, walk_files
from .placeholders import substitute
from .reading import UnreadableFile, read_text
from .transactions import Choice, Runner, flyway_non_transactional
from .versions import flyway_version_key

KINDS = {"V": "versioned", "U": "undo", "B": "baseline"}


@dataclass(frozen=True)
class FlywayName:
    kind: str
    version: str
    description: str


def parse_name(name: str) -> FlywayName | None:
    """The migration a file name declares, or None when Flyway would not pick the file up."""
    if not name.endswith(".sql"):
        return None
    stem = name[: -len(".sql")]
    if stem.startswith("R__"):
        return FlywayName("repeatable", "", stem[3:].replace("_", " "))
    if stem[:1] not in KINDS or "__" not in stem[1:]:
        return None
    version, description = stem[1:].split("__", 1)
    if flyway_version_key(version) is None:
        return None
    return FlywayName(KINDS[stem[0]], version, description.replace("_", " "))


def list_history(root: Path) -> History:
    history = History(root=root, format="flyway")
    by_kind: dict[str, list[Entry]] = {"versioned": [], "repeatable": [], "undo": [], "baseline": []}
    for file in walk_files(root):
        name = parse_name(file.name)
        if name is None:
            continue
        entry = Entry(file=file, rel=relative(root, file), version=name.version,
                      description=name.description, kind=name.kind)
        _read_script_config(entry)
        by_kind[name.kind].append(entry)

    def version_order(entry: Entry):
        return (flyway_version_key(entry.version), entry.rel)

    versioned = sorted(by_kind["versioned"], key=version_order)
    baselines = sorted(by_kind["baseline"], key=version_order)
    # Two files of one version are reported by migrasafe/history (flyway_versions.py).
    if baselines:
        # On an empty database Flyway applies the latest baseline instead of everything it covers.
        baseline = baselines[-1]
        covered = flyway_version_key(baseline.version)
        later = [e for e in versioned if flyway_version_key(e.version) > covered]
        kept = {e.file for e in later} | {baseline.file}
        for e in versioned + baselines:
            if e.file not in kept:
                history.skipped[e.file] = f"covered by the baseline B{baseline.version}, which Flyway applies instead"
        versioned = [baseline] + later
    repeatables = sorted(by_kind["repeatable"], key=lambda e: (e.description, e.rel))
    history.forward = versioned + repeatables
    history.reverse = sorted(by_kind["undo"], key=version_order)
    return history


# Keys Flyway accepts in a per-script configuration file; any other key makes it stop.
SCRIPT_CONFIG_KEYS = {"executeInTransaction", "encoding", "placeholderReplacement", "shouldExecute"}
BOOLEAN_KEYS = {
    "executeInTransaction": "execute_in_transaction",
    "placeholderReplacement": "placeholder_replacement",
}


def _read_script_config(entry: Entry) -> None:
    conf = entry.file.with_name(entry.file.name + ".conf")
    if not conf.is_file():
        return
    rel = entry.rel + ".conf"
    entry.options["conf"] = rel
    try:
        text = read_text(conf)
    except UnreadableFile as err:
        entry.problems.append(Problem(rel, err.line, err.message))
        return
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        key, value = _property(line)
        if key not in SCRIPT_CONFIG_KEYS:
            entry.problems.append(Problem(
                rel, number,
                f"Flyway stops on unknown script configuration property {key!r}"
                f" (accepted: {', '.join(sorted(SCRIPT_CONFIG_KEYS))})",
                "set mixed=true in Flyway's main configuration, not per script" if key == "mixed" else "",
            ))
        elif key in BOOLEAN_KEYS:
            if value.lower() not in ("true", "false"):
                entry.problems.append(Problem(rel, number, f"{key} must be true or false, not {value!r}"))
            else:
                entry.options[BOOLEAN_KEYS[key]] = value.lower() == "true"
        elif key == "encoding":
            entry.options["encoding"] = value


def _property(line: str) -> tuple[str, str]:
    """Java properties syntax: the key ends at the first unescaped `=`, `:` or blank."""
    for i, char in enumerate(line):
        if char in "=:" or char.isspace():
            key, rest = line[:i], line[i:].lstrip()
            if rest[:1] in ("=", ":"):
                rest = rest[1:]
            return key, rest.strip()
    return line, ""


def prepare(entry: Entry, text: str, config: Config, display: str) -> Prepared:
    if entry.options.get("placeholder_replacement") is False:
        return Prepared(text)
    result = substitute(text, config.placeholders, entry.file.name)
    notes = [
        findings.placeholder_substituted(
            display, u.line,
            f"Flyway placeholder ${{{u.name}}} has no value here; checked with {u.substitute} in its place",
            u.column,
            f'give it a value under placeholders in the migrasafe configuration ({u.name} = "...")',
        )
        for u in result.unresolved
    ]
    return Prepared(result.text, findings=notes)


def transaction(
    fmt: SourceFormat, entry: Entry, prepared: Prepared, statements: list[Statement], config: Config, display: str
) -> tuple[Choice, list[Finding]]:
    """Flyway's rule: one transaction per script, unless the script holds a statement Flyway knows
    cannot run in one; a script that mixes both is refused unless mixed is allowed."""
    per_script = entry.options.get("execute_in_transaction")
    globally = config.transaction.get("flyway", True)
    # A statement that did not parse is left out: it cannot be classified, and the parse error
    # is reported on its own.
    labelled = [(s, flyway_non_transactional(s, config.pg_version)) for s in statements if s.node is not None]
    outside = [(s, label) for s, label in labelled if label]
    inside = [s for s, label in labelled if not label]
    notes: list[Finding] = []
    refused = bool(outside and inside and not config.flyway_mixed and per_script is None and globally)
    if refused:
        first, label = outside[0]
        other = inside[0]
        notes.append(findings.flyway_mixed_transaction(
            display, first.line, first.column,
            f"Flyway refuses this script: {label} (line {first.line}) cannot run in a transaction, but the"
            f" script also holds transactional statements ({_short(other.sql)} at line {other.line});"
            " Flyway stops with \"Detected both transactional and non-transactional statements within"
            " the same migration\"",
            f"move the {label} statement into its own migration file, or set mixed=true in Flyway's"
            " configuration (flyway_mixed = true for migrasafe) so Flyway runs the whole script"
            " without a transaction",
        ))
    if per_script is not None:
        conf = Path(entry.options["conf"]).name
        return Choice(per_script, f"{conf} sets executeInTransaction={str(per_script).lower()}"), notes
    if not globally:
        reason = "transaction.flyway = false in the configuration (Flyway's executeInTransaction=false)"
        return Choice(False, reason), notes
    if outside:
        first, label = outside[0]
        if refused:
            reason = (f"Flyway refuses this script (it mixes {label} at line {first.line} with transactional"
                      " statements); with mixed=true it would run it without a transaction")
        else:
            reason = f"file holds {label} (line {first.line}), which Flyway runs outside a transaction"
        return Choice(False, reason), notes
    return Choice(True, "Flyway runs each script in a transaction"), notes


def _short(sql: str, limit: int = 40) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def detect(folder: Path) -> bool:
    return any(parse_name(p.name) for p in files_in(folder))


FORMAT = SourceFormat(
    name="flyway", list_history=list_history, prepare=prepare, transaction=transaction, detect=detect,
    looks_like="Flyway (V<version>__<name>.sql, R__, U, B)",
    outside_transaction='put the statement alone in its own V__ script (Flyway then runs it without a transaction)',
    runner=Runner(
        wraps=True,
        wrapped="Flyway runs each script in a transaction",
        unwrapped="Flyway runs the script statement by statement without a transaction",
        whole_file_query=False,
    ),
)
