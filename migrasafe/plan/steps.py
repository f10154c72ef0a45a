"""What a plan is made of, before it is written in any migration format."""
from __future__ import annotations

from dataclasses import dataclass, field

# What each kind of step does to the application, for the file header and the summary.
KINDS = {
    "expand": "adds to the schema; the running application is unaffected",
    "backfill": "updates existing rows in batches, one transaction per batch",
    "index": "builds an index without blocking reads or writes",
    "validate": "checks existing rows while reads and writes continue",
    "enforce": "turns a validated check into the schema's own rule",
    "contract": "removes what the application no longer uses",
    "switch": "moves the schema to its final shape in one short transaction",
}


@dataclass
class Step:
    kind: str  # a key of KINDS
    title: str  # one line: what the step does
    slug: str  # the migration's description in its file name
    statements: list[str]  # complete SQL statements without the final semicolon
    transactional: bool = True  # can the runner wrap it in a transaction?
    # An application change that must be live everywhere before this step runs, or None.
    deploy: str | None = None
    # What the running application must already do for this step to be safe without a deploy.
    requires: str = ""
    # Statements that revert the step, or None when it cannot be reverted (then `irreversible`
    # says why).
    down: list[str] | None = None
    irreversible: str = ""
    # Why the step is safe at this point, for the file header.
    notes: list[str] = field(default_factory=list)
    # True when the step sets lock_timeout itself (inside a DO block); the writer adds no SET.
    own_lock_timeout: bool = False
    # True when retrying needs a manual step first (an invalid index left by a failed build).
    retry: str = ""


@dataclass
class Settings:
    batch_size: int = 1000
    lock_timeout: str = "2s"


@dataclass
class Plan:
    operation: str
    summary: str  # "rename public.users.name to full_name"
    steps: list[Step]
    # What the operator should know beyond the files (a query to find rows a VALIDATE rejects).
    notes: list[str] = field(default_factory=list)

    def deploys(self) -> list[tuple[int, str]]:
        """(index of the first step after it, application change) for each deploy point."""
        return [(i, s.deploy) for i, s in enumerate(self.steps) if s.deploy]

    def application_before(self, index: int) -> str:
        """The application change that must be live before step `index` runs, or ""."""
        for step in reversed(self.steps[: index + 1]):
            if step.deploy:
                return step.deploy
        return ""
