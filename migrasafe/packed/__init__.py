"""A large migration's statements and their analysis held as columns rather than objects.

An object per statement (its Statement, its AnalysedStatement, their line numbers) costs about
three hundred bytes, three times the text of a typical statement, and a report needs them all
until it is written. A migration with at least PACK_AT statements is therefore analysed into
columns: arrays of numbers, lists of shared records, and dicts for the few statements with
findings or anything else out of the ordinary. `migration.statements` and `result.statements`
are then sequences (PackedStatements, PackedAnalysed) whose items are made when read
(StatementRow, AnalysedRow): each reads as the Statement or AnalysedStatement it stands for, is
the same object for as long as it is referenced, and writes back what is assigned to it.

Smaller migrations keep plain objects: reading an item costs about a microsecond, which a small
migration need not pay for memory it hardly uses.
"""
from __future__ import annotations

# About 4.5 MB of SQL: below it one migration's records take a few tens of MB at most.
PACK_AT = 50_000
# A packed migration's statements also share their impacts with the equal ones among the last
# this many distinct impacts (records.Shared): about a megabyte of lookup table.
RECENT_IMPACTS = 4096


def statements_of(text: str, parts):
    """The statements of `text` as columns, from (start, length, index, line, column, end
    line) of each (parse.split_statements). The modules are imported here: a run of small
    migrations never loads them."""
    from .statements import PackedStatements

    return PackedStatements.of_parts(text, parts)


def pack(migration, result) -> None:
    """Hold the migration's statements as columns, if they are not already, and the result's
    analysed statements from now on: each is packed as it is appended."""
    from .analysed import PackedAnalysed
    from .statements import PackedStatements

    if not isinstance(migration.statements, PackedStatements):
        migration.statements = PackedStatements(migration.statements)
    result.statements = PackedAnalysed(migration.statements)
