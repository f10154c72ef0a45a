"""Every lock and rewrite the model claims for the corpus, checked against a real server.

For each case, the earlier migrations are the setup (their INSERTs are the rows); each statement
of the last migration is observed on every available PostgreSQL major and compared with what
the static model predicts for that major.
"""
from __future__ import annotations

import pytest
from pglast import ast

from corpus_cases import all_cases, run_case
from pgtruth import observe
from replay_helpers import ensure_tablespaces

CASES = all_cases()


def _statements(result):
    return [a for a in result.statements if not isinstance(a.statement.node, ast.TransactionStmt)]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_model_matches_server(case, pg_server):
    if pg_server.major < int(case.expected.get("min_pg", 12)):
        _older_server_rejects_what_the_model_calls_unsupported(case, pg_server)
        return
    utc = bool(case.expected.get("timezone_utc"))
    report = run_case(case, pg_version=pg_server.major, timezone_utc=utc)
    *setup_results, last = report.results
    setup = [a.statement.sql for r in setup_results for a in _statements(r)]
    analysed = _statements(last)
    ensure_tablespaces(pg_server.uri, case.expected.get("tablespaces", []))
    observed = observe(pg_server.uri, setup, [a.statement.sql for a in analysed],
                       timezone="UTC" if utc else "America/New_York")
    rejects = set(case.expected.get("server_rejects", []))
    problems = []
    for a, seen in zip(analysed, observed):
        line = a.statement.line
        if seen.error:
            if line not in rejects:
                problems.append(f"line {line}: server error {seen.error}")
            continue
        if line in rejects:
            problems.append(f"line {line}: expected the server to reject it, it ran")
        predicted = {l.relation: l.mode for l in a.impact.locks}
        if predicted != seen.locks:
            problems.append(f"line {line}: locks predicted {predicted}, observed {seen.locks}")
        if set(a.impact.rewrites) != set(seen.rewrites):
            problems.append(f"line {line}: rewrites predicted {sorted(a.impact.rewrites)}, observed {sorted(seen.rewrites)}")
        if a.impact.transactional != seen.transactional:
            problems.append(f"line {line}: transactional predicted {a.impact.transactional}, observed {seen.transactional}")
    assert not problems, f"pg{pg_server.major} {case.name}:\n" + "\n".join(problems)


def _older_server_rejects_what_the_model_calls_unsupported(case, pg_server):
    """A case written for a newer major, on an older server: every statement of it the server
    rejects is one the model reports as unsupported on that version (MS005) or cannot parse
    (MS000), so nothing the older major lacks passes unnoticed."""
    report = run_case(case, pg_version=pg_server.major)
    *setup_results, last = report.results
    setup = [a.statement.sql for r in setup_results for a in _statements(r)]
    analysed = _statements(last)
    observed = observe(pg_server.uri, setup, [a.statement.sql for a in analysed])
    flagged = {f.line for f in last.all_findings() if f.rule in ("MS005", "MS000")}
    rejected = {a.statement.line for a, seen in zip(analysed, observed) if seen.error and not
                seen.error.startswith("when committed")}
    # A statement after a flagged one may fail only because that one did (VALIDATE of a
    # constraint the older server never made).
    missed = sorted(line for line in rejected - flagged if not any(f < line for f in flagged))
    assert not missed, (f"pg{pg_server.major} {case.name}: the server rejects line(s) {missed}, "
                        f"which the model does not report as unsupported on {pg_server.major}")
