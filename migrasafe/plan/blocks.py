"""Steps that several operations share: batched backfill, column sync trigger, NOT NULL in three
transactions, index builds."""
from __future__ import annotations

from ..catalog.state import Relation
from .errors import PlanError
from .sql import ident, literal, object_name, qualified, table_part
from .steps import Step

# Tags of the dollar quotes around generated bodies; unlikely in a user's expression.
BACKFILL_TAG = "$backfill$"
SYNC_TAG = "$sync$"


def primary_key(table: Relation) -> tuple[str, ...]:
    for con in table.constraints.values():
        if con.kind == "p" and con.columns:
            return con.columns
    raise PlanError(f"{table.name} has no primary key: a batched backfill walks the table by primary key "
                    f"(add one first, or backfill it by hand)")


def backfill(table: Relation, assignments: str, pending: str, *, batch_size: int, lock_timeout: str,
             title: str, slug: str) -> Step:
    """A DO block that updates the rows matching `pending` in primary key order, committing each
    batch, so no lock is held longer than one batch and a rerun resumes where it stopped.

    `assignments` is the SET list; `pending` the condition of rows still to update, which makes
    a rerun skip finished batches.
    """
    key = primary_key(table)
    name = qualified(table.name)
    cols = ", ".join(ident(c) for c in key)
    desc = ", ".join(f"{ident(c)} DESC" for c in key)
    start = [f"ms_from_{i}" for i in range(len(key))]
    end = [f"ms_to_{i}" for i in range(len(key))]

    def row(names):
        return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"

    key_row = row([ident(c) for c in key])
    declare = "\n".join(f"  {v} {name}.{ident(c)}%TYPE;" for v, c in [*zip(start, key), *zip(end, key)])
    body = f"""DO {BACKFILL_TAG}
DECLARE
{declare}
BEGIN
  PERFORM set_config('lock_timeout', {literal(lock_timeout)}, false);
  SELECT {cols} INTO {", ".join(start)} FROM {name} ORDER BY {cols} LIMIT 1;
  WHILE {start[0]} IS NOT NULL LOOP
    SELECT {cols} INTO {", ".join(end)}
      FROM (SELECT {cols} FROM {name} WHERE {key_row} >= {row(start)} ORDER BY {cols} LIMIT {batch_size}) AS batch
      ORDER BY {desc} LIMIT 1;
    UPDATE {name} SET {assignments}
      WHERE {key_row} >= {row(start)} AND {key_row} <= {row(end)} AND ({pending});
    COMMIT;
    SELECT {cols} INTO {", ".join(start)} FROM {name} WHERE {key_row} > {row(end)} ORDER BY {cols} LIMIT 1;
  END LOOP;
END
{BACKFILL_TAG}"""
    return Step(
        kind="backfill", title=title, slug=slug, statements=[body], transactional=False,
        down=[], own_lock_timeout=True,
        notes=[f"Rows are updated {batch_size} at a time in primary key order, each batch in its own "
               f"transaction (COMMIT inside the DO block, PostgreSQL 11+), so it must run outside a "
               f"transaction block and row locks last one batch."],
        retry="the batches committed so far stay done; a rerun skips the rows already updated",
    )


def sync_trigger(table: Relation, old: str, new: str, *, to_new: str, to_old: str | None,
                 old_default: str | None) -> tuple[list[str], list[str], str, str]:
    """A BEFORE trigger that keeps `new` equal to `to_new` (an expression of NEW.old) on every
    write, and `old` equal to `to_old` (of NEW.new) when a writer sets only the new column.

    Returns (create statements, drop statements, function name, trigger name).
    """
    base = table_part(table.name)
    function = f"{table.name.split('.')[0]}.{object_name(base, 'sync', old, new)}"
    trigger = object_name(base, "sync", old, new)
    o, n = f"NEW.{ident(old)}", f"NEW.{ident(new)}"
    if to_old is None:
        body = f"""  {n} := {to_new};
  RETURN NEW;"""
    else:
        # The old column may hold its default because the writer (a new application version)
        # left it out: then the new column is the value written.
        old_unset = f"{o} IS NULL" + (f" OR {o} IS NOT DISTINCT FROM ({old_default})" if old_default else "")
        body = f"""  IF TG_OP = 'INSERT' THEN
    IF {n} IS NULL THEN
      {n} := {to_new};
    ELSIF {old_unset} THEN
      {o} := {to_old};
    END IF;
  ELSIF {o} IS DISTINCT FROM OLD.{ident(old)} THEN
    {n} := {to_new};
  ELSIF {n} IS DISTINCT FROM OLD.{ident(new)} THEN
    {o} := {to_old};
  END IF;
  RETURN NEW;"""
    create_function = f"""CREATE OR REPLACE FUNCTION {qualified(function)}() RETURNS trigger
LANGUAGE plpgsql AS {SYNC_TAG}
BEGIN
{body}
END
{SYNC_TAG}"""
    create_trigger = (f"CREATE TRIGGER {ident(trigger)} BEFORE INSERT OR UPDATE ON {qualified(table.name)}\n"
                      f"  FOR EACH ROW EXECUTE FUNCTION {qualified(function)}()")
    drops = [f"DROP TRIGGER IF EXISTS {ident(trigger)} ON {qualified(table.name)}",
             f"DROP FUNCTION IF EXISTS {qualified(function)}()"]
    return [create_function, create_trigger], drops, function, trigger


def not_null_steps(table: Relation, column: str, *, deploy: str | None = None,
                   backfill_step: Step | None = None) -> list[Step]:
    """[backfill] → CHECK (col IS NOT NULL) NOT VALID → VALIDATE → SET NOT NULL and drop the CHECK.

    The CHECK rejects NULLs in new rows at once, takes only a brief lock and skips the scan; the
    VALIDATE scans without blocking writes; SET NOT NULL then trusts the validated CHECK
    (PostgreSQL 12+) instead of scanning under AccessExclusiveLock. The backfill comes first:
    even NOT VALID, the CHECK applies to every row an UPDATE writes, so an UPDATE of a row still
    holding NULL would fail.
    """
    name = qualified(table.name)
    check = object_name(table_part(table.name), column, suffix="not_null")
    col = ident(column)
    steps = []
    if backfill_step is not None:
        steps.append(backfill_step)
    steps.append(Step(
        kind="expand", title=f"reject NULL in new rows of {table.name}.{column} (CHECK NOT VALID)",
        slug=f"check_{table_part(table.name)}_{column}_not_null",
        statements=[f"ALTER TABLE {name} ADD CONSTRAINT {ident(check)} CHECK ({col} IS NOT NULL) NOT VALID"],
        down=[f"ALTER TABLE {name} DROP CONSTRAINT IF EXISTS {ident(check)}"],
        notes=["NOT VALID: existing rows are not scanned here; the lock lasts only the catalog change. "
               "Any write of a row with " + column + " NULL fails from here on, UPDATEs of other columns "
               "included."],
    ))
    steps[0].deploy = deploy
    steps.append(Step(
        kind="validate", title=f"validate that no row of {table.name} has {column} NULL",
        slug=f"validate_{table_part(table.name)}_{column}_not_null",
        statements=[f"ALTER TABLE {name} VALIDATE CONSTRAINT {ident(check)}"],
        down=[],
        notes=["VALIDATE scans the table under ShareUpdateExclusiveLock: reads and writes continue.",
               f"It fails if a row still has {column} NULL: find them with "
               f"SELECT * FROM {name} WHERE {col} IS NULL LIMIT 10;"],
    ))
    steps.append(Step(
        kind="enforce", title=f"make {table.name}.{column} NOT NULL (no scan: the validated CHECK proves it)",
        slug=f"set_{table_part(table.name)}_{column}_not_null",
        statements=[f"ALTER TABLE {name} ALTER COLUMN {col} SET NOT NULL",
                    f"ALTER TABLE {name} DROP CONSTRAINT {ident(check)}"],
        down=[f"ALTER TABLE {name} ALTER COLUMN {col} DROP NOT NULL"],
        notes=["PostgreSQL 12+ skips the table scan of SET NOT NULL when a validated CHECK proves it."],
    ))
    return steps


def index_step(table: Relation, index: str, definition: str, *, unique: bool, title: str, slug: str) -> Step:
    """CREATE [UNIQUE] INDEX CONCURRENTLY, alone: it cannot run in a transaction block."""
    schema = table.name.split(".")[0]
    why = "a duplicate value, " if unique else ""
    return Step(
        kind="index", title=title, slug=slug,
        statements=[f"CREATE {'UNIQUE ' if unique else ''}INDEX CONCURRENTLY {ident(index)} "
                    f"ON {qualified(table.name)} {definition}"],
        transactional=False,
        down=[f"DROP INDEX CONCURRENTLY IF EXISTS {qualified(schema + '.' + index)}"],
        notes=["CONCURRENTLY takes ShareUpdateExclusiveLock: reads and writes continue during the build."],
        retry=(f"a failed build ({why}a deadlock, a cancel) leaves an INVALID index behind; drop it first with "
               f"DROP INDEX CONCURRENTLY IF EXISTS {qualified(schema + '.' + index)}"),
    )
