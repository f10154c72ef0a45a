"""The shape every source format module fills in."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..config import Config
from ..model import Finding, Statement
from .entries import Entry, History
from .transactions import Choice, Marker, Runner, choose


@dataclass
class Prepared:
    """The part of a file that runs, ready for the parser."""

    text: str
    line_offset: int = 0  # lines of the file before `text` starts
    marker: Marker | None = None  # a per-file transaction choice
    findings: list[Finding] = field(default_factory=list)
    broken: bool = False
    # Line ranges the tool sends as one statement however many it holds (goose StatementBegin/End).
    blocks: list[tuple[int, int]] = field(default_factory=list)


def keep_text(entry: Entry, text: str, config: Config, display: str) -> Prepared:
    return Prepared(text)


def standard_transaction(
    fmt: "SourceFormat", entry: Entry, prepared: Prepared, statements: list[Statement], config: Config,
    display: str,
) -> tuple[Choice, list[Finding]]:
    return choose(fmt.name, fmt.runner, prepared.marker, statements, config.transaction), []


@dataclass(frozen=True)
class SourceFormat:
    """One tool's layout and run rules, as data: the registry (registry.py) lists them all."""

    name: str
    list_history: Callable[[Path], History]
    runner: Runner
    # Does this folder hold the tool's migrations (its own marker files, names or annotations)?
    # Asked in the registry's order; the first format that says yes reads the folder.
    detect: Callable[[Path], bool] | None = None
    # What the tool's migrations look like, for the message when a path holds none.
    looks_like: str = ""
    # File suffixes of migrations the tool runs in a language other than SQL (goose's `.go`):
    # they are reported as not checked, never skipped silently.
    code_migrations: tuple[str, ...] = ()
    # How a statement that cannot run in a transaction block is run outside one in this layout,
    # for fixes ("move it to its own migration with '-- migrate:up transaction:false'").
    outside_transaction: str = "run it outside any transaction"
    # Where a later step (the VALIDATE after an ADD ... NOT VALID) gets a transaction of its own, for
    # fixes: the default is wrong where every pending migration shares one transaction.
    separate_transaction: str = "in a separate transaction (its own migration)"
    # How a statement that commits by itself (a batched backfill's DO block with COMMIT) runs in this
    # layout, when that differs from `outside_transaction`.
    self_committing: str = ""
    prepare: Callable[[Entry, str, Config, str], Prepared] = keep_text
    transaction: Callable[..., tuple[Choice, list[Finding]]] = standard_transaction
    # psql meta-commands and Go templates are blanked before parsing (plain SQL and popx only:
    # elsewhere they would reach the server and fail, which the parser should then report).
    preprocess: bool = False
    # Other histories may live below this one's root (a sqitch project inside another's folder):
    # discovery goes on below a folder this format claimed.
    nested: bool = False
    # The project root above a folder of the tool's scripts, when a file inside it is named on its own
    # (sqitch's deploy/ below sqitch.plan, Liquibase changes below the master changelog); else None.
    root_of: Callable[[Path], Path | None] | None = None
