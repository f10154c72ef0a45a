"""Plans that change one column: rename, change its type, add it, make it NOT NULL, drop it."""
from __future__ import annotations

from ..catalog.state import Relation
from ..locks.types import narrows
from . import blocks, dependents
from .errors import PlanError
from .expressions import check_columns, of_row, parse_expression, parse_type, volatile
from .schema import Project
from .sql import NAME_LIMIT, ident, object_name, qualified, table_part, type_sql
from .steps import Plan, Settings, Step


def _new_column_name(table: Relation, name: str) -> None:
    if name in table.columns:
        raise PlanError(f"column {name} already exists in table {table.name}")
    if len(name.encode()) > NAME_LIMIT:
        raise PlanError(f"{name!r} is longer than PostgreSQL's {NAME_LIMIT}-byte limit for names")
    if not name:
        raise PlanError("the new column name is empty")


def _suppress(rule: str, reason: str) -> str:
    return f"-- migrasafe: ignore {rule} -- {reason}\n"


class Carryover:
    """Indexes and foreign keys of `old` rebuilt on `new` before the switch, and what the switch
    step must then do with them."""

    def __init__(self, project: Project, table: Relation, old: str, new: str, *, final_names: bool):
        self.steps: list[Step] = []
        self.at_switch: list[str] = []
        name = qualified(table.name)
        taken = set(project.catalog.indexes)
        for entry in dependents.indexes_on(project, table, old):
            original = entry.index.name.split(".")[1]
            built = dependents.renamed_object(original, old, new, table, taken)
            taken.add(f"{table.name.split('.')[0]}.{built}")
            definition = dependents.index_definition(entry, old, new)
            unique = entry.index.unique
            if entry.constraint is not None and entry.constraint.kind == "u":
                self.steps.append(blocks.index_step(
                    table, built, definition, unique=True,
                    title=f"build the unique index {built} for {new} (replaces {original})",
                    slug=f"index_{built}"))
                constraint = entry.constraint.name if final_names else built
                self.at_switch.append(f"ALTER TABLE {name} ADD CONSTRAINT {ident(constraint)} UNIQUE "
                                      f"USING INDEX {ident(built)}")
                continue
            self.steps.append(blocks.index_step(
                table, built, definition, unique=unique,
                title=f"build the index {built} for {new} (replaces {original})", slug=f"index_{built}"))
            if final_names:
                self.at_switch.append(f"ALTER INDEX {qualified(table.name.split('.')[0] + '.' + built)} "
                                      f"RENAME TO {ident(original)}")
        for con in dependents.foreign_keys_from(table, old):
            built = dependents.renamed_object(con.name, old, new, table, taken)
            columns = tuple(new if c == old else c for c in con.columns)
            self.steps.append(Step(
                kind="expand", title=f"add the foreign key {built} on {new}, NOT VALID (replaces {con.name})",
                slug=f"add_{built}",
                statements=[f"ALTER TABLE {name} ADD {dependents.foreign_key_sql(con, columns, built)} NOT VALID"],
                down=[f"ALTER TABLE {name} DROP CONSTRAINT IF EXISTS {ident(built)}"],
                notes=["NOT VALID: existing rows are checked by the next step, without blocking writes."]))
            self.steps.append(Step(
                kind="validate", title=f"validate the foreign key {built}", slug=f"validate_{built}",
                statements=[f"ALTER TABLE {name} VALIDATE CONSTRAINT {ident(built)}"], down=[],
                notes=["VALIDATE takes ShareUpdateExclusiveLock here and RowShareLock on the referenced "
                       "table: reads and writes continue."]))
            if final_names:
                self.at_switch.append(f"ALTER TABLE {name} RENAME CONSTRAINT {ident(built)} TO {ident(con.name)}")


def rename_column(project: Project, target: str, new: str, settings: Settings) -> Plan:
    table_ref, old = _split_column(target)
    table = project.table(table_ref)
    col = project.column(table, old)
    _new_column_name(table, new)
    dependents.refuse_key_column(project, table, old, "renaming")
    dependents.refuse_checks(project, table, old, "rename it")
    default = project.default_of(table.name, old)
    if default and volatile(parse_expression(default, "the default")):
        raise PlanError(f"{table.name}.{old} has a volatile default ({default}); renaming it is not planned")
    name = qualified(table.name)
    kind = type_sql(col.type)
    creates, drops, function, trigger = blocks.sync_trigger(
        table, old, new, to_new=f"NEW.{ident(old)}", to_old=f"NEW.{ident(new)}", old_default=default)
    base = table_part(table.name)
    steps = [Step(
        kind="expand", title=f"add {new} beside {old} and keep both in step with a trigger",
        slug=f"add_{base}_{new}",
        statements=[f"ALTER TABLE {name} ADD COLUMN {ident(new)} {kind}", *creates],
        down=[*drops, _suppress("MS042", f"{new} was added by the migration this reverts")
              + f"ALTER TABLE {name} DROP COLUMN IF EXISTS {ident(new)}"],
        notes=[f"The trigger copies whichever of {old} and {new} a writer sets into the other, so the "
               f"running application (writing {old}) and the next one (writing {new}) see the same data."],
    )]
    steps.append(blocks.backfill(
        table, f"{ident(new)} = {ident(old)}", f"{ident(new)} IS DISTINCT FROM {ident(old)}",
        batch_size=settings.batch_size, lock_timeout=settings.lock_timeout,
        title=f"copy {old} into {new} for existing rows", slug=f"backfill_{base}_{new}"))
    if col.not_null:
        steps.extend(blocks.not_null_steps(table, new))
    carry = Carryover(project, table, old, new, final_names=False)
    steps.extend(carry.steps)
    contract = [f"DROP TRIGGER IF EXISTS {ident(trigger)} ON {name}", f"DROP FUNCTION IF EXISTS {qualified(function)}()",
                _suppress("MS042", f"the application stopped using {old} in the previous deploy")
                + f"ALTER TABLE {name} DROP COLUMN {ident(old)}"]
    if default:
        contract.append(f"ALTER TABLE {name} ALTER COLUMN {ident(new)} SET DEFAULT {default}")
    contract.extend(carry.at_switch)
    steps.append(Step(
        kind="contract", title=f"drop {old} and the sync trigger", slug=f"drop_{base}_{old}",
        statements=contract,
        deploy=f"the application version that reads and writes {table.name}.{new} and no longer uses {old}",
        irreversible=f"the values of {old} are gone; {new} holds the same data",
        notes=[f"Runs after the deploy: nothing reads or writes {old} any more."]
              + _views_note(project, table, old),
    ))
    return Plan("rename-column", f"rename {table.name}.{old} to {new}", steps)


def change_column_type(project: Project, target: str, type_text: str, settings: Settings,
                       using: str | None = None) -> Plan:
    table_ref, column = _split_column(target)
    table = project.table(table_ref)
    col = project.column(table, column)
    written, spec = parse_type(type_text)
    if str(spec) == str(col.type):
        raise PlanError(f"{table.name}.{column} is already of type {col.type}")
    dependents.refuse_key_column(project, table, column, "changing the type")
    dependents.refuse_checks(project, table, column, "change the type")
    if using is not None:
        node = parse_expression(using, "--using")
        check_columns(node, table.columns, "--using", table.name)
        convert, convert_new = f"({using})", of_row(node, "NEW")
    else:
        convert, convert_new = f"CAST({ident(column)} AS {written})", f"CAST(NEW.{ident(column)} AS {written})"
    temporary = object_name(column, suffix="new")
    while temporary in table.columns:
        temporary = object_name(temporary, suffix="new")
    default = project.default_of(table.name, column)
    name = qualified(table.name)
    base = table_part(table.name)
    creates, drops, function, trigger = blocks.sync_trigger(
        table, column, temporary, to_new=convert_new, to_old=None, old_default=None)
    steps = [Step(
        kind="expand", title=f"add {temporary} {written} and keep it equal to {column} with a trigger",
        slug=f"add_{base}_{temporary}",
        statements=[f"ALTER TABLE {name} ADD COLUMN {ident(temporary)} {written}", *creates],
        down=[*drops, _suppress("MS042", f"{temporary} was added by the migration this reverts")
              + f"ALTER TABLE {name} DROP COLUMN IF EXISTS {ident(temporary)}"],
        notes=[f"Every write to {column} is converted into {temporary} by the trigger; the application "
               f"keeps using {column} throughout."],
    )]
    steps.append(blocks.backfill(
        table, f"{ident(temporary)} = {convert}", f"{ident(temporary)} IS DISTINCT FROM {convert}",
        batch_size=settings.batch_size, lock_timeout=settings.lock_timeout,
        title=f"convert {column} into {temporary} for existing rows", slug=f"backfill_{base}_{temporary}"))
    if col.not_null:
        steps.extend(blocks.not_null_steps(table, temporary))
    carry = Carryover(project, table, column, temporary, final_names=True)
    steps.extend(carry.steps)
    switch = [f"DROP TRIGGER IF EXISTS {ident(trigger)} ON {name}", f"DROP FUNCTION IF EXISTS {qualified(function)}()",
              _suppress("MS042", f"{temporary} takes its place under the same name in this transaction")
              + f"ALTER TABLE {name} DROP COLUMN {ident(column)}",
              _suppress("MS040", f"{temporary} was added by this plan and takes over the name {column}, "
                                 f"which the application keeps using")
              + f"ALTER TABLE {name} RENAME COLUMN {ident(temporary)} TO {ident(column)}"]
    if default:
        switch.append(f"ALTER TABLE {name} ALTER COLUMN {ident(column)} SET DEFAULT {default}")
    switch.extend(carry.at_switch)
    compatible = not narrows(col.type, spec)
    steps.append(Step(
        kind="switch", title=f"swap {temporary} in as {column} {written}", slug=f"switch_{base}_{column}_type",
        statements=switch,
        deploy=None if compatible else f"an application version that reads and writes {table.name}.{column} "
                                       f"as {written}",
        requires=(f"reads and writes {column} in a way {written} accepts ({col.type} → {spec} widens, "
                  f"so the running version does)") if compatible else "",
        irreversible=f"the {col.type} column is gone; {column} now holds the converted values",
        notes=[f"One short transaction: {column} ({col.type}) is dropped and {temporary} renamed to {column}; "
               f"its indexes and constraints take the old names."] + _views_note(project, table, column),
    ))
    return Plan("change-column-type", f"change {table.name}.{column} from {col.type} to {written}", steps)


def set_not_null(project: Project, target: str, settings: Settings, backfill: str | None = None) -> Plan:
    table_ref, column = _split_column(target)
    table = project.table(table_ref)
    col = project.column(table, column)
    if col.not_null:
        raise PlanError(f"{table.name}.{column} is already NOT NULL")
    fill = None
    if backfill is not None:
        node = parse_expression(backfill, "--backfill")
        check_columns(node, table.columns, "--backfill", table.name)
        fill = blocks.backfill(table, f"{ident(column)} = ({backfill})", f"{ident(column)} IS NULL",
                               batch_size=settings.batch_size, lock_timeout=settings.lock_timeout,
                               title=f"fill {column} where it is NULL", slug=f"backfill_{table_part(table.name)}_{column}")
    steps = blocks.not_null_steps(
        table, column, deploy=f"an application version that never writes NULL into {table.name}.{column}",
        backfill_step=fill)
    plan = Plan("set-not-null", f"make {table.name}.{column} NOT NULL", steps)
    if fill is None:
        plan.notes.append(f"Rows that already hold NULL make the VALIDATE step fail; pass --backfill EXPR to "
                          f"fill them, or fix them before that step.")
    return plan


def add_not_null_column(project: Project, target: str, type_text: str, settings: Settings,
                        default: str | None = None, backfill: str | None = None) -> Plan:
    table_ref, column = _split_column(target)
    table = project.table(table_ref)
    _new_column_name(table, column)
    written, _ = parse_type(type_text)
    name = qualified(table.name)
    base = table_part(table.name)
    if default is None and backfill is None:
        raise PlanError("give --default VALUE (a constant every existing row gets at once) or --backfill EXPR "
                        "(an expression of the row, filled in batches)")
    if default is not None:
        node = parse_expression(default, "--default")
        if volatile(node):
            raise PlanError(f"--default {default} is volatile: use add-column-with-volatile-default --not-null")
        if backfill is not None:
            raise PlanError("give either --default or --backfill, not both")
        step = Step(
            kind="expand", title=f"add {column} {written} NOT NULL DEFAULT {default}", slug=f"add_{base}_{column}",
            statements=[f"ALTER TABLE {name} ADD COLUMN {ident(column)} {written} NOT NULL DEFAULT {default}"],
            down=[_suppress("MS042", f"{column} was added by the migration this reverts")
                  + f"ALTER TABLE {name} DROP COLUMN IF EXISTS {ident(column)}"],
            notes=["A non-volatile default is stored once in the catalog (PostgreSQL 11+): no table rewrite, "
                   "and the running application's INSERTs get the default."])
        return Plan("add-not-null-column", f"add {table.name}.{column} {written} NOT NULL", [step])
    node = parse_expression(backfill, "--backfill")
    check_columns(node, table.columns, "--backfill", table.name)
    steps = [Step(
        kind="expand", title=f"add {column} {written}, nullable for now", slug=f"add_{base}_{column}",
        statements=[f"ALTER TABLE {name} ADD COLUMN {ident(column)} {written}"],
        down=[_suppress("MS042", f"{column} was added by the migration this reverts")
              + f"ALTER TABLE {name} DROP COLUMN IF EXISTS {ident(column)}"],
        notes=["Nullable and without a default: a catalog change only."])]
    fill = blocks.backfill(table, f"{ident(column)} = ({backfill})", f"{ident(column)} IS NULL",
                           batch_size=settings.batch_size, lock_timeout=settings.lock_timeout,
                           title=f"fill {column} for existing rows", slug=f"backfill_{base}_{column}")
    steps.extend(blocks.not_null_steps(
        table, column, deploy=f"an application version that writes {table.name}.{column} in every INSERT",
        backfill_step=fill))
    return Plan("add-not-null-column", f"add {table.name}.{column} {written} NOT NULL", steps)


def add_column_with_volatile_default(project: Project, target: str, type_text: str, expression: str,
                                     settings: Settings, not_null: bool = False) -> Plan:
    table_ref, column = _split_column(target)
    table = project.table(table_ref)
    _new_column_name(table, column)
    written, _ = parse_type(type_text)
    parse_expression(expression, "the default")
    name = qualified(table.name)
    base = table_part(table.name)
    steps = [Step(
        kind="expand", title=f"add {column} {written} and give new rows DEFAULT {expression}",
        slug=f"add_{base}_{column}",
        statements=[f"ALTER TABLE {name} ADD COLUMN {ident(column)} {written}",
                    f"ALTER TABLE {name} ALTER COLUMN {ident(column)} SET DEFAULT {expression}"],
        down=[_suppress("MS042", f"{column} was added by the migration this reverts")
              + f"ALTER TABLE {name} DROP COLUMN IF EXISTS {ident(column)}"],
        notes=["Adding the column without a default is a catalog change; SET DEFAULT afterwards applies to "
               "new rows only, so the table is not rewritten."])]
    steps.append(blocks.backfill(
        table, f"{ident(column)} = DEFAULT", f"{ident(column)} IS NULL",
        batch_size=settings.batch_size, lock_timeout=settings.lock_timeout,
        title=f"fill {column} with its default for existing rows", slug=f"backfill_{base}_{column}"))
    if not_null:
        steps.extend(blocks.not_null_steps(table, column))
    return Plan("add-column-with-volatile-default", f"add {table.name}.{column} {written} DEFAULT {expression}",
                steps)


def drop_column(project: Project, target: str, settings: Settings) -> Plan:
    table_ref, column = _split_column(target)
    table = project.table(table_ref)
    col = project.column(table, column)
    dependents.refuse_key_column(project, table, column, "dropping")
    name = qualified(table.name)
    base = table_part(table.name)
    steps = []
    if col.not_null and not project.default_of(table.name, column):
        steps.append(Step(
            kind="expand", title=f"allow NULL in {column}, so the next application version can leave it out",
            slug=f"drop_{base}_{column}_not_null",
            statements=[f"ALTER TABLE {name} ALTER COLUMN {ident(column)} DROP NOT NULL"],
            down=[],
            notes=[f"Without this, INSERTs of an application version that no longer writes {column} fail."]))
    steps.append(Step(
        kind="contract", title=f"drop {table.name}.{column}", slug=f"drop_{base}_{column}",
        statements=[_suppress("MS042", f"the application stopped using {column} in the previous deploy")
                    + f"ALTER TABLE {name} DROP COLUMN {ident(column)}"],
        deploy=f"an application version that neither reads nor writes {table.name}.{column} "
               f"(ORMs: the attribute is removed or marked ignored)",
        irreversible=f"the values of {column} are gone",
        notes=["Indexes and constraints on the column go with it."] + _views_note(project, table, column)))
    return Plan("drop-column", f"drop {table.name}.{column}", steps)


def _views_note(project: Project, table: Relation, column: str) -> list[str]:
    views = dependents.views_on(project, table)
    if not views:
        return []
    return [f"Views read {table.name} ({', '.join(views)}): if one uses {column}, this step fails until the "
            f"view is redefined."]


def _split_column(target: str) -> tuple[str, str]:
    table, dot, column = target.rpartition(".")
    if not dot or not table or not column:
        raise PlanError(f"expected TABLE.COLUMN (schema optional), not {target!r}")
    return table, column
