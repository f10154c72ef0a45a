"""The last look at a rewrite before `migrasafe fix` may write it.

A fix is a splice into the user's file. Before anything is written, the spliced text is parsed
again with PostgreSQL's grammar, and so is every migration the fix adds: SQL that PostgreSQL
would reject must never reach the disk. The edits must also stay inside the statements they
were made for (their lines, their semicolon) and the header lines a fix changes on purpose, so
that nothing else of the file moves.
"""
from __future__ import annotations


def rewrite_problem(text: str, edits, regions: list[tuple[int, int]], changes) -> str | None:
    """Why the rewrite must not be written, or None when it may be."""
    for edit in edits:
        if not any(start <= edit.start and edit.end <= end for start, end in regions):
            line = text.count("\n", 0, edit.start) + 1
            return f"an edit at line {line} falls outside the statements it fixes"
    for change in changes:
        if not str(change.path).endswith(".sql"):
            continue  # metadata.toml: its one line is written whole, not spliced
        # Counted, not compared by line: the file may hold text only the migration tool reads
        # (a Flyway placeholder), which does not parse before the fix either, a line further on.
        before = set() if change.new else _unparsed(change.before)
        after = _unparsed(change.after)
        if len(after) > len(before):
            line, message = min(after - before or after)
            return f"{change.display}:{line}: the rewritten SQL does not parse ({message})"
    return None


def _unparsed(text: str) -> set[tuple[int, str]]:
    """(line, error) of each statement PostgreSQL's grammar rejects, as the check reads the file:
    Go templates and psql meta-commands are set aside first, as they are there."""
    from ..parse import preprocess, split_statements

    text = text.lstrip("\ufeff")
    return {(s.line, s.parse_error or "syntax error") for s in split_statements(preprocess(text).text)
            if s.node is None}
