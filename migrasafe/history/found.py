"""What a history check found, before it becomes a finding on a migration or on the run."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Found:
    rule: str
    file: Path  # resolved: the file the finding is on
    line: int
    message: str
    fix: str
    severity: str | None = None  # None: the rule's own
    key: str | None = None  # the migration within the file, when it holds several (a Liquibase changeset)
    display: str | None = None  # how to show the file when it is not one of the migrations read
    # Other files the finding is about: under --since, a change to any of them makes it the change's own.
    involves: tuple[Path, ...] = ()
