"""Replay settings: `[tool.migrasafe.replay]` in the config, then the command line.

    [tool.migrasafe.replay]
    backend = "embedded"          # embedded | docker | dsn
    image = "postgres:15"         # docker: the image (default postgres:<pg_version>)
    rows = 2_000_000              # production rows per table, when no stats say otherwise
    stats = "prod-stats.csv"      # table,rows per table (or a `migrasafe stats` JSON/YAML file)
    sizes = [10_000, 100_000]     # replay sizes: rows of the largest table
    probes = true                 # concurrent reads and writes on the live tables
    statement_timeout = "10min"   # guard per statement
    timeout = "1h"                # the whole replay

    [tool.migrasafe.replay.budgets]
    access_exclusive = "2s"
    blocks_writes = "5s"
    migration = "3min"

This module imports nothing heavy: the config loader validates the table with it.
"""
from __future__ import annotations

import re

from .budget import Budgets, BudgetError, parse_duration_ms
from .options import BACKENDS

KEYS = {"backend", "image", "rows", "stats", "sizes", "probes", "statement_timeout", "timeout", "budgets"}
COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$")


class SettingsError(ValueError):
    """A replay setting that cannot be used; the message names it."""


def parse_count(value, what: str) -> int:
    """1000000, "1_000_000", "100k", "2M" or "1e6"."""
    if isinstance(value, bool):
        raise SettingsError(f"{what}: expected a number of rows, not {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).replace("_", "").replace(",", "")
        found = COUNT.match(text)
        try:
            number = float(text) if not found else float(found.group(1)) * {"": 1, "k": 1e3, "m": 1e6}[found.group(2).lower()]
        except ValueError:
            raise SettingsError(f"{what}: expected a number of rows such as 100000 or 100k, not {value!r}") from None
    if number < 0 or number != number or number > 1e12:
        raise SettingsError(f"{what}: expected a number of rows of 0 or more, not {value!r}")
    return int(number)


def parse_sizes(value, what: str) -> tuple[int, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise SettingsError(f"{what}: expected one or more row counts, such as 10000,100000")
    sizes = tuple(parse_count(item, what) for item in items if str(item).strip())
    if not sizes or any(size <= 0 for size in sizes):
        raise SettingsError(f"{what}: every size must be at least 1 row")
    return sizes


def validate_table(table: dict, where: str) -> None:
    if not isinstance(table, dict):
        raise SettingsError(f"{where}: replay must be a table")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise SettingsError(f"{where}: unknown replay key(s) {', '.join(unknown)} (known: {', '.join(sorted(KEYS))})")
    if "backend" in table and table["backend"] not in BACKENDS:
        raise SettingsError(f"{where}: replay.backend must be one of {', '.join(BACKENDS)}")
    for key in ("image", "stats"):
        if key in table and (not isinstance(table[key], str) or not table[key].strip()):
            raise SettingsError(f"{where}: replay.{key} must be a string")
    if "rows" in table:
        parse_count(table["rows"], f"{where}: replay.rows")
    if "sizes" in table:
        parse_sizes(table["sizes"], f"{where}: replay.sizes")
    if "probes" in table and not isinstance(table["probes"], bool):
        raise SettingsError(f"{where}: replay.probes must be true or false")
    try:
        for key in ("statement_timeout", "timeout"):
            if key in table:
                parse_duration_ms(table[key], f"{where}: replay.{key}")
        if "budgets" in table:
            if not isinstance(table["budgets"], dict):
                raise SettingsError(f"{where}: replay.budgets must be a table")
            Budgets.from_table(table["budgets"], f"{where}: replay.budgets")
    except BudgetError as err:
        raise SettingsError(str(err)) from None
