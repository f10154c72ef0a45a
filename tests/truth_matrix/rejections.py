"""The cases each PostgreSQL major refuses, recorded in ``rejected.tsv`` beside this file.

A generated case can be one a major rejects: a syntax it does not have yet (MERGE before 15), a
context the statement does not fit (a partition key column altered). Such a case is not compared
with the model; the suite instead checks that the server still refuses it with the recorded
SQLSTATE, so a case that starts to run is compared again, and a newly refused one is noticed.

Re-record after changing families or contexts (it starts every installed major)::

    cd tests && python -m truth_matrix.rejections
"""
from __future__ import annotations

import sys
from pathlib import Path

RECORD = Path(__file__).with_name("rejected.tsv")
HEADER = "# major\tcase\tsqlstate: written by `cd tests && python -m truth_matrix.rejections`, checked by tests/test_truth_matrix.py\n"


def load(path: Path = RECORD) -> dict[tuple[int, str], str]:
    recorded = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            major, case, sqlstate = line.split("\t")
            recorded[int(major), case] = sqlstate
    return recorded


def sqlstate_of(error: str) -> str:
    return error.split(":", 1)[0]


def record() -> int:
    sys.path.insert(0, str(Path(__file__).parents[1]))
    from migrasafe.replay.servers import ServerPool, available_servers
    from truth_matrix.cases import all_cases
    from truth_matrix.contexts import CONTEXTS
    from truth_matrix.server import observe_context

    cases = all_cases()
    lines = []
    with ServerPool() as pool:
        for spec in sorted(available_servers(), key=lambda s: s.major):
            server = pool.get(spec)
            for context in CONTEXTS:
                mine = [c for c in cases if c.context == context.name]
                _, seen = observe_context(server.uri, context.setup, [c.sql for c in mine])
                lines += [f"{spec.major}\t{c.id}\t{sqlstate_of(s.observation.error)}\n"
                          for c, s in zip(mine, seen) if s.observation.error is not None]
            print(f"PostgreSQL {spec.major}: observed", file=sys.stderr)
    RECORD.write_text(HEADER + "".join(lines), encoding="utf-8")
    print(f"{len(lines)} rejections written to {RECORD}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(record())
