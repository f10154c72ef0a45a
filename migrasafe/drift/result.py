"""What a drift run found, for the reports."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..snapshot import Difference
from .apply import Failure

MIGRATIONS, DATABASE = "the migrations", "the database"


@dataclass
class DriftResult:
    paths: list[str]
    histories: list[str]  # "examples/flyway (flyway, 4 migrations)"
    live: str  # "database shop on db:5432, PostgreSQL 16.4"
    replayed_on: str  # which server the migrations were applied on, and why that one
    differences: list[Difference] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # files in the folders that were not applied
    roles: list[str] = field(default_factory=list)  # the live server's roles made on the throwaway server
    statements: int = 0
    objects: tuple[int, int] = (0, 0)  # (replayed, live) objects compared

    @property
    def complete(self) -> bool:
        """Every statement applied: the replayed schema is the migrations' own."""
        return not self.failures and not self.problems

    def exit_code(self) -> int:
        if not self.complete:
            return 2
        return 1 if self.differences else 0

    def counts(self) -> dict[str, int]:
        out = {"missing": 0, "extra": 0, "changed": 0}
        for d in self.differences:
            out[{"removed": "missing", "added": "extra"}.get(d.change, "changed")] += 1
        return out

    def summary(self) -> str:
        if not self.differences:
            verdict = "no drift" if self.complete else "no difference found"
        else:
            c = self.counts()
            parts = [f"{n} {what}" for n, what in ((c["missing"], "only in the migrations"),
                                                   (c["extra"], "only in the database"), (c["changed"], "changed")) if n]
            verdict = f"{len(self.differences)} difference{'s' if len(self.differences) != 1 else ''}: " \
                      + ", ".join(parts)
        if not self.complete:
            n = len(self.failures) + len(self.problems)
            verdict += (f" — incomplete: {n} {'thing' if n == 1 else 'things'} did not apply, so this is not "
                        "the schema the migrations build")
        return f"{verdict} ({self.objects[0]} objects from the migrations, {self.objects[1]} in the database)"

    def to_json(self) -> dict:
        return {
            "paths": self.paths, "histories": self.histories, "live": self.live, "replayed_on": self.replayed_on,
            "complete": self.complete, "drift": bool(self.differences), "counts": self.counts(),
            "objects": {"migrations": self.objects[0], "database": self.objects[1]},
            "differences": [d.to_json() for d in self.differences],
            "failures": [f.to_json() for f in self.failures], "problems": self.problems,
            "skipped": self.skipped, "roles_made": self.roles, "statements_applied": self.statements,
        }
