"""What a project's env.py configures, read from its source: env.py itself never runs.

Two facts change how revisions run: `context.configure(transaction_per_migration=True)`, and
`SET lock_timeout` / `SET statement_timeout` sent on the connection before the migrations
(`connection.execute(text("SET lock_timeout = 4000"))`). Only literal values count; anything
computed is left to `[tool.migrasafe.alembic]`.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

_TIMEOUTS = ("lock_timeout", "statement_timeout")


@dataclass
class EnvFacts:
    path: Path | None = None
    transaction_per_migration: bool | None = None
    transaction_per_migration_line: int = 0
    settings: list[tuple[str, int]] = field(default_factory=list)  # (SQL, line) sent before migrating


def read_env(script_location: Path) -> EnvFacts:
    path = script_location / "env.py"
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return EnvFacts()
    facts = EnvFacts(path=path)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _callee(node)
        if name == "configure":
            for keyword in node.keywords:
                if keyword.arg == "transaction_per_migration" and isinstance(keyword.value, ast.Constant):
                    facts.transaction_per_migration = bool(keyword.value.value)
                    facts.transaction_per_migration_line = node.lineno
        elif name in ("execute", "exec_driver_sql") and node.args:
            sql = _literal_sql(node.args[0])
            if sql is not None and _sets_timeout(sql):
                facts.settings.append((sql, node.lineno))
    facts.settings.sort(key=lambda s: s[1])
    return facts


def _callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _literal_sql(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and _callee(node) == "text" and node.args:
        return _literal_sql(node.args[0])
    return None


def _sets_timeout(sql: str) -> bool:
    words = sql.strip().rstrip(";").split()
    if len(words) < 2 or words[0].upper() != "SET":
        return False
    if words[1].upper() == "LOCAL":
        return False  # ends with env.py's own transaction, not the migrations'
    name = words[2] if words[1].upper() == "SESSION" and len(words) > 2 else words[1]
    return name.lower().split("=")[0] in _TIMEOUTS
