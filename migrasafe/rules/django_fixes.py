"""The Django way to do what a rule's fix says in SQL, for findings on Django migrations.

The rules judge the SQL Django sends; a Django user writes operations, so each fix gets the
operations that produce the safe SQL (Django's own: `django.contrib.postgres.operations`,
`Field.db_default` from Django 5.0, `SeparateDatabaseAndState`, non-atomic migrations —
https://docs.djangoproject.com/en/stable/ref/migration-operations/ and
https://docs.djangoproject.com/en/stable/ref/contrib/postgres/operations/).
MS001's own text (indexes.py) already names AddIndexConcurrently.
"""
from __future__ import annotations

_VALIDATE_LATER = ("AddConstraintNotValid (django.contrib.postgres.operations) in this migration, then "
                   "ValidateConstraint in a later one")

# RemoveIndexConcurrently fails the same way DROP INDEX CONCURRENTLY does on a partitioned table.
_PARTITIONED_DROP = ("RemoveIndex alone in a migration of its own (atomic), after "
                     "RunSQL(\"SET LOCAL lock_timeout = '2s'\"); run it again when the timeout hits")

DJANGO_WAY = {
    "MS002": "RemoveIndexConcurrently (django.contrib.postgres.operations) in a migration whose Migration class "
             "sets atomic = False",
    "MS004": "a migration of its own whose Migration class sets atomic = False",
    "MS010": "db_default (Django 5.0+) for a default the database computes, or a nullable field plus a data "
             "migration that fills it in batches, then AlterField to null=False",
    "MS011": "a new field of the new type, filled by a batched data migration, then SeparateDatabaseAndState to "
             "swap the names in the model state (two deploys)",
    "MS012": "db_default (Django 5.0+) with a constant, or a nullable field plus a batched data migration",
    "MS020": f"for a ForeignKey: add it with db_constraint=False, then {_VALIDATE_LATER} "
             "(SeparateDatabaseAndState keeps the model state in step)",
    "MS021": f"{_VALIDATE_LATER}, instead of AddConstraint",
    "MS022": "AddIndexConcurrently of a unique index in a migration with atomic = False, then "
             "SeparateDatabaseAndState whose database_operations add the constraint USING that index",
    "MS024": f"a CheckConstraint(condition=Q(field__isnull=False)) added with {_VALIDATE_LATER}; then "
             "AlterField to null=False is checked against it without a full scan",
    "MS026": "db_default (Django 5.0+) on the new field, or null=True first",
    "MS030": "move the RunPython/RunSQL backfill to its own migration with atomic = False, updating in batches "
             "by primary key",
    "MS033": "a RunPython in a migration with atomic = False that updates in batches by primary key",
    "MS034": "move the RunSQL/RunPython that reads to a migration of its own, after the schema change has "
             "committed",
    "MS040": "two deploys: SeparateDatabaseAndState (db_column keeps the old column name in state), code that "
             "reads both, then the rename",
    "MS041": "two deploys: keep db_table on the model (SeparateDatabaseAndState) until no running code uses the "
             "old name",
    "MS042": "two deploys: remove the field from the model first (SeparateDatabaseAndState with no database "
             "operations), then RemoveField in a later release",
    "MS043": "two deploys: DeleteModel only after the running release no longer uses the model "
             "(SeparateDatabaseAndState first)",
    "MS045": "deploy code that always sets the field first, then AlterField to null=False",
    "MS046": "keep a db_default (Django 5.0+) on the field, or deploy code that always sets it before the "
             "migration",
}


def django_fix(rule_id: str, fix: str) -> str:
    way = DJANGO_WAY.get(rule_id)
    if rule_id == "MS045" and "ADD COLUMN" in fix:
        way = DJANGO_WAY["MS026"]  # a field this migration adds: the running code never sets it
    elif rule_id == "MS002" and "partitioned" in fix:
        way = _PARTITIONED_DROP
    if way is None or "AddIndexConcurrently" in fix:
        return fix
    return f"{fix}\n-- Django: {way}" if fix else f"-- Django: {way}"
