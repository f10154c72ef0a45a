"""The source-level findings this package emits, so ids and names live in one place."""
from __future__ import annotations

from ..model import Finding


def input_error(path: str, message: str, line: int = 1, column: int = 1, fix: str = "") -> Finding:
    return Finding(
        rule="MS099", name="input-error", severity="error",
        message=message, path=path, line=line, column=column, fix=fix,
    )


def placeholder_substituted(path: str, line: int, message: str, column: int = 1, fix: str = "") -> Finding:
    return Finding(
        rule="MS090", name="placeholder-substituted", severity="info",
        message=message, path=path, line=line, column=column, fix=fix,
    )


def not_checked(path: str, message: str) -> Finding:
    return Finding(
        rule="MS086", name="migration-not-checked", severity="info",
        message=message, path=path, line=1, column=1,
        fix="check what it does by hand: its locks and rewrites are not predicted",
    )


def psql_meta_command(path: str, line: int, message: str) -> Finding:
    return Finding(
        rule="MS091", name="psql-meta-command", severity="info",
        message=message, path=path, line=line, column=1,
        fix="psql runs this line itself; the server never sees it, so it is not checked",
    )


def flyway_mixed_transaction(path: str, line: int, column: int, message: str, fix: str) -> Finding:
    return Finding(
        rule="MS006", name="flyway-mixed-transaction", severity="error",
        message=message, path=path, line=line, column=column, fix=fix,
    )
