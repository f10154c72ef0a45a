"""Plans that rename or drop a whole table."""
from __future__ import annotations

from . import dependents
from .errors import PlanError
from .schema import Project
from .sql import NAME_LIMIT, ident, qualified, table_part
from .steps import Plan, Settings, Step


def rename_table(project: Project, target: str, new: str, settings: Settings) -> Plan:
    table = project.table(target)
    schema = table.name.split(".")[0]
    if "." in new:
        raise PlanError(f"give the new name without a schema: the table stays in {schema}")
    if f"{schema}.{new}" in project.catalog.relations:
        raise PlanError(f"{schema}.{new} already exists")
    if len(new.encode()) > NAME_LIMIT or not new:
        raise PlanError(f"{new!r} is not a usable table name (1 to {NAME_LIMIT} bytes)")
    old_name, new_name = qualified(table.name), qualified(f"{schema}.{new}")
    old = table_part(table.name)
    steps = [Step(
        kind="switch", title=f"rename {table.name} to {new} and leave a view under the old name",
        slug=f"rename_{old}_to_{new}",
        statements=[
            "-- migrasafe: ignore MS041 -- the view created next in this transaction keeps the old name "
            "working for the running application\n"
            f"ALTER TABLE {old_name} RENAME TO {ident(new)}",
            f"CREATE VIEW {old_name} AS SELECT * FROM {new_name}",
        ],
        down=[f"DROP VIEW IF EXISTS {old_name}",
              "-- migrasafe: ignore MS041 -- reverts the rename; the application still uses the old name\n"
              f"ALTER TABLE {new_name} RENAME TO {ident(old)}"],
        notes=[f"The view is a simple one, so the running application's SELECT, INSERT, UPDATE and DELETE "
               f"on {old} go through to {new} (defaults included).",
               f"Columns added to {new} later do not appear in the view; finish the plan first."],
    ), Step(
        kind="contract", title=f"drop the view {table.name}", slug=f"drop_view_{old}",
        statements=[f"DROP VIEW {old_name}"],
        deploy=f"the application version that uses {schema}.{new} instead of {table.name}",
        down=[f"CREATE VIEW {old_name} AS SELECT * FROM {new_name}"],
    )]
    plan = Plan("rename-table", f"rename {table.name} to {new}", steps)
    if table.owned_sequences or table.indexes:
        plan.notes.append("Sequences, indexes and constraints keep their names (they do not follow the table's).")
    return plan


def drop_table(project: Project, target: str, settings: Settings) -> Plan:
    table = project.table(target)
    views = dependents.views_on(project, table)
    if views:
        raise PlanError(f"views read {table.name} ({', '.join(views)}): drop them first; DROP TABLE without "
                        f"CASCADE refuses, and with it drops them silently")
    deploy = f"an application version that no longer uses {table.name}"
    steps = []
    for child, con in dependents.foreign_keys_to(project, table):
        if child.name == table.name:
            continue
        steps.append(Step(
            kind="contract", title=f"drop the foreign key {con.name} of {child.name} that points at {table.name}",
            slug=f"drop_{con.name}",
            statements=[f"ALTER TABLE {qualified(child.name)} DROP CONSTRAINT {ident(con.name)}"],
            deploy=deploy if not steps else None,
            irreversible="re-adding the foreign key needs the add-foreign-key plan",
            notes=["Dropped in its own transaction, so no transaction locks both tables at once."]))
    steps.append(Step(
        kind="contract", title=f"drop {table.name}", slug=f"drop_{table_part(table.name)}",
        statements=[f"-- migrasafe: ignore MS043 -- the application stopped using {table_part(table.name)} "
                    f"in the previous deploy\nDROP TABLE {qualified(table.name)}"],
        deploy=deploy if not steps else None,
        irreversible=f"the rows of {table.name} are gone",
    ))
    return Plan("drop-table", f"drop {table.name}", steps)
