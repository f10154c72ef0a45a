"""Every operation `migrasafe plan` knows: its arguments and the function that plans it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .schema import Project
    from .steps import Plan, Settings

# The planning modules import pglast; the command line reads this table on every run.
ON_DELETE = ("no-action", "restrict", "cascade", "set-null", "set-default")


def columns():
    from . import columns

    return columns


def constraints():
    from . import constraints

    return constraints


def tables():
    from . import tables

    return tables


@dataclass(frozen=True)
class Argument:
    name: str  # the attribute on the parsed arguments
    metavar: str
    help: str


@dataclass(frozen=True)
class Option:
    flag: str  # "--backfill"
    metavar: str | None  # None: a switch
    help: str
    choices: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Operation:
    name: str
    help: str
    arguments: tuple[Argument, ...]
    build: Callable[["Project", dict, "Settings"], "Plan"]
    options: tuple[Option, ...] = field(default=())


COLUMN = Argument("column", "TABLE.COLUMN", "the column (schema optional: public.users.name)")
COLUMNS = Argument("columns", "TABLE.COLUMN[,COLUMN...]", "the table and its column(s)")
TABLE = Argument("table", "TABLE", "the table (schema optional)")
TYPE = Argument("type", "TYPE", "a PostgreSQL type, quoted if it has spaces: 'varchar(200)'")
NAME = Option("--name", "NAME", "name of the constraint or index (default: derived from table and columns)")

OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    Operation(
        "rename-column", "rename a column: new column kept in step by a trigger, backfill, deploy, drop the old",
        (COLUMN, Argument("new_name", "NEW_NAME", "the column's new name")),
        lambda p, a, s: columns().rename_column(p, a["column"], a["new_name"], s)),
    Operation(
        "rename-table", "rename a table, leaving a view under the old name until the deploy",
        (TABLE, Argument("new_name", "NEW_NAME", "the table's new name (same schema)")),
        lambda p, a, s: tables().rename_table(p, a["table"], a["new_name"], s)),
    Operation(
        "change-column-type", "change a column's type through a new column, backfill and a quick swap",
        (COLUMN, TYPE),
        lambda p, a, s: columns().change_column_type(p, a["column"], a["type"], s, using=a.get("using")),
        (Option("--using", "EXPR", "expression converting the old value (default: CAST(column AS TYPE))"),)),
    Operation(
        "set-not-null", "make a column NOT NULL: backfill, CHECK NOT VALID, VALIDATE, SET NOT NULL",
        (COLUMN,),
        lambda p, a, s: columns().set_not_null(p, a["column"], s, backfill=a.get("backfill")),
        (Option("--backfill", "EXPR", "value for rows that hold NULL now, filled in batches"),)),
    Operation(
        "add-not-null-column", "add a NOT NULL column, with a constant default or a batched backfill",
        (COLUMN, TYPE),
        lambda p, a, s: columns().add_not_null_column(p, a["column"], a["type"], s, default=a.get("default"),
                                                    backfill=a.get("backfill")),
        (Option("--default", "VALUE", "constant default: one instant step"),
         Option("--backfill", "EXPR", "expression of the row for existing rows, filled in batches"))),
    Operation(
        "add-column-with-volatile-default", "add a column whose default differs per row, without a rewrite",
        (COLUMN, TYPE, Argument("default", "EXPR", "the default, e.g. 'gen_random_uuid()'")),
        lambda p, a, s: columns().add_column_with_volatile_default(p, a["column"], a["type"], a["default"], s,
                                                                 not_null=bool(a.get("not_null"))),
        (Option("--not-null", None, "also make the column NOT NULL once it is filled"),)),
    Operation(
        "add-foreign-key", "add a foreign key: index CONCURRENTLY, ADD ... NOT VALID, VALIDATE",
        (COLUMNS, Argument("references", "REF_TABLE[.COLUMN,...]", "the referenced table (its primary key) "
                                                                   "or columns")),
        lambda p, a, s: constraints().add_foreign_key(p, a["columns"], a["references"], s, name=a.get("name"),
                                                    on_delete=a.get("on_delete")),
        (NAME, Option("--on-delete", "ACTION", "what deleting a referenced row does",
                      choices=ON_DELETE))),
    Operation(
        "add-unique", "add a UNIQUE constraint: unique index CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX",
        (COLUMNS,),
        lambda p, a, s: constraints().add_unique(p, a["columns"], s, name=a.get("name")),
        (NAME,)),
    Operation(
        "add-check", "add a CHECK constraint: NOT VALID, then VALIDATE",
        (TABLE, Argument("expression", "EXPR", "the condition, e.g. 'total >= 0'")),
        lambda p, a, s: constraints().add_check(p, a["table"], a["expression"], s, name=a.get("name")),
        (NAME,)),
    Operation(
        "add-index", "build an index CONCURRENTLY",
        (COLUMNS,),
        lambda p, a, s: constraints().add_index(p, a["columns"], s, name=a.get("name"), unique=bool(a.get("unique"))),
        (NAME, Option("--unique", None, "a unique index"))),
    Operation(
        "drop-column", "drop a column after the deploy that stops using it",
        (COLUMN,),
        lambda p, a, s: columns().drop_column(p, a["column"], s)),
    Operation(
        "drop-table", "drop a table after the deploy that stops using it",
        (TABLE,),
        lambda p, a, s: tables().drop_table(p, a["table"], s)),
)}
