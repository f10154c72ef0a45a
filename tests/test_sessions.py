"""Migrations that share one connection (Alembic's run): settings carry from one to the next, and
with `shared_transaction` so do the open transaction and the locks it holds."""
from __future__ import annotations

from migrasafe.analyse import RuleSelection, analyse_migration
from migrasafe.catalog import Catalog
from migrasafe.config import Config
from migrasafe.model import Migration
from migrasafe.parse import split_statements
from migrasafe.transaction import TxState

SCHEMA = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint); CREATE TABLE customers (id bigint PRIMARY KEY);"


def migration(rev: str, sql: str, *, shared: bool = True, session: str | None = "alembic:x",
              setup: str = "") -> Migration:
    meta = {"revision": rev, "history": "h", "key": rev}
    if session:
        meta.update(session=session, shared_transaction=shared)
    if setup:
        meta["session_setup"] = split_statements(setup)
    return Migration(path=f"{rev}.py", format="alembic", version=rev, statements=split_statements(sql),
                     in_transaction=True, meta=meta)


def analysed(*migrations: Migration, session: bool = True) -> list[list[tuple[str, str]]]:
    """(rule, message) of each migration's findings, after the schema migration."""
    config = Config()
    selection = RuleSelection(config)
    catalog = Catalog()
    analyse_migration(migration("base", SCHEMA, session=None), catalog, config, selection)
    tx = TxState() if session else None
    out = []
    for m in migrations:
        result = analyse_migration(m, catalog, config, selection, session=tx)
        out.append([(f.rule, f.message) for f in result.all_findings()])
    return out


ADD_NOT_VALID = ("SET lock_timeout = '2s'; ALTER TABLE orders ADD CONSTRAINT orders_customer_fk "
                 "FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID")
VALIDATE = "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk; ALTER TABLE orders ADD COLUMN note text"


def test_shared_transaction_keeps_the_earlier_revisions_locks_and_names_them():
    first, second = analysed(migration("aaa", ADD_NOT_VALID), migration("bbb", VALIDATE))
    assert first == []
    (validate,) = [message for rule, message in second if rule == "MS025"]
    assert "on line 1 of revision aaa" in validate


def test_transaction_per_migration_commits_between_revisions():
    _, second = analysed(migration("aaa", ADD_NOT_VALID, shared=False), migration("bbb", VALIDATE, shared=False))
    assert "MS025" not in {rule for rule, _ in second}
    # The session's lock_timeout from the first revision still applies: no MS032.
    assert "MS032" not in {rule for rule, _ in second}


def test_without_a_session_each_migration_starts_afresh():
    _, second = analysed(migration("aaa", ADD_NOT_VALID, session=None), migration("bbb", VALIDATE, session=None),
                         session=False)
    assert {rule for rule, _ in second} == {"MS032"}


def test_session_setup_applies_when_the_session_starts():
    add = "ALTER TABLE orders ADD COLUMN note text"
    (plain,) = analysed(migration("aaa", add))
    (set_up,) = analysed(migration("aaa", add, setup="SET lock_timeout = '4s'"))
    assert "MS032" in {rule for rule, _ in plain} and set_up == []


def test_backfill_after_an_earlier_revisions_exclusive_lock():
    lock = "SET lock_timeout = '2s'; ALTER TABLE orders ADD COLUMN note text"
    update = "UPDATE orders SET note = 'x'"
    _, second = analysed(migration("aaa", lock), migration("bbb", update))
    (backfill,) = [message for rule, message in second if rule == "MS030"]
    assert "public.orders (line 1 of revision aaa)" in backfill


def test_carry_over_relabels_lines_once():
    tx = TxState()
    tx.begin(1, explicit=False)
    tx.exclusive_ddl["public.t"] = 3
    tx.carry_over("revision a")
    tx.exclusive_ddl["public.u"] = 5
    tx.carry_over("revision b")
    assert tx.exclusive_ddl == {"public.t": "3 of revision a", "public.u": "5 of revision b"}
