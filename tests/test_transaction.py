import pytest
from pglast import parse_sql

from migrasafe.transaction import TxState, parse_duration_ms


def _node(sql):
    return parse_sql(sql)[0].stmt


@pytest.mark.parametrize("value,ms", [(2000, 2000), ("2s", 2000), ("500ms", 500), ("1min", 60000), ("0", 0), ("x", None)])
def test_durations(value, ms):
    assert parse_duration_ms(value) == ms


def test_set_local_lasts_until_commit_and_session_set_stays():
    tx = TxState()
    tx.control(_node("BEGIN"), 1)
    tx.control(_node("SET LOCAL lock_timeout = '1s'"), 2)
    assert tx.timeout_ms("lock_timeout") == 1000
    tx.control(_node("COMMIT"), 3)
    assert tx.timeout_ms("lock_timeout") is None
    tx.control(_node("SET lock_timeout TO 3000"), 4)
    assert tx.timeout_ms("lock_timeout") == 3000
    tx.control(_node("SET lock_timeout = 0"), 5)
    assert tx.timeout_ms("lock_timeout") is None


def test_set_config_function_form():
    tx = TxState()
    tx.control(_node("SELECT set_config('lock_timeout', '2s', false)"), 1)
    assert tx.timeout_ms("lock_timeout") == 2000


def test_locks_accumulate_until_commit():
    tx = TxState()
    tx.control(_node("BEGIN"), 1)
    tx.hold("public.a", "AccessExclusiveLock")
    tx.hold("public.a", "ShareLock")
    assert tx.held == {"public.a": "AccessExclusiveLock"}
    tx.control(_node("COMMIT"), 2)
    assert tx.held == {}


def _zone_after(*statements, default=False):
    tx = TxState()
    for line, sql in enumerate(statements, start=1):
        tx.control(_node(sql), line)
    return tx.timezone_utc(default)


@pytest.mark.parametrize("statements, utc", [
    (["SET timezone = 'UTC'"], True),
    (["SET TIME ZONE 'Etc/UTC'"], True),
    (['SET "TimeZone" TO \'gmt\''], True),
    (["SET TIME ZONE 0"], True),
    (["SET TIME ZONE 'Europe/London'"], False),
    (["SET TIME ZONE 'UTC'", "SET TIME ZONE 'America/New_York'"], False),
    (["SET TIME ZONE 'UTC'", "RESET timezone"], False),  # back to the server's own: not UTC here
    (["SELECT set_config('TimeZone', 'UTC', false)"], True),
    (["SET TIME ZONE INTERVAL '+00:00' HOUR TO MINUTE"], True),
    (["SET TIME ZONE INTERVAL '+05:30' HOUR TO MINUTE"], False),
    (["SET LOCAL timezone = 'UTC'"], False),  # outside a transaction: no effect
])
def test_session_time_zone(statements, utc):
    assert _zone_after(*statements) is utc


def test_set_local_time_zone_ends_with_the_transaction():
    tx = TxState()
    tx.control(_node("SET TIME ZONE 'America/New_York'"), 1)
    tx.control(_node("BEGIN"), 2)
    tx.control(_node("SET LOCAL TIME ZONE 'UTC'"), 3)
    assert tx.timezone_utc(False)
    tx.control(_node("COMMIT"), 4)
    assert not tx.timezone_utc(True)  # the session's own setting again, not the server default


def test_unset_time_zone_follows_the_configuration():
    assert _zone_after("SET lock_timeout = '1s'", default=True) is True
    assert _zone_after("SET lock_timeout = '1s'", default=False) is False


def test_a_set_inside_a_rolled_back_transaction_is_undone():
    tx = TxState()
    tx.control(_node("SET lock_timeout = '5s'"), 1)
    tx.control(_node("BEGIN"), 2)
    tx.control(_node("SET lock_timeout = '2s'"), 3)
    tx.control(_node("SET statement_timeout = '1min'"), 4)
    tx.control(_node("SET TIME ZONE 'UTC'"), 5)
    tx.control(_node("SET LOCAL lock_timeout = '1s'"), 6)
    assert tx.timeout_ms("lock_timeout") == 1000 and tx.timezone_utc(default=False)
    tx.control(_node("ROLLBACK"), 7)
    # As PostgreSQL does: back to what the session had when the transaction began.
    assert tx.timeout_ms("lock_timeout") == 5000 and tx.timeout_ms("statement_timeout") is None
    assert not tx.timezone_utc(default=False)
    # Committed, the same SETs stay (all but SET LOCAL).
    for line, sql in enumerate(["BEGIN", "SET lock_timeout = '2s'", "SELECT set_config('statement_timeout', '1min', false)",
                                "SET LOCAL lock_timeout = '1s'", "COMMIT"], start=8):
        tx.control(_node(sql), line)
    assert tx.timeout_ms("lock_timeout") == 2000 and tx.timeout_ms("statement_timeout") == 60_000


def test_rollback_to_a_savepoint_undoes_the_sets_made_after_it():
    tx = TxState()
    for line, sql in enumerate(["BEGIN", "SET lock_timeout = '2s'", "SAVEPOINT a", "SET lock_timeout = '9s'",
                                "SET LOCAL statement_timeout = '3s'", "ROLLBACK TO SAVEPOINT a"], start=1):
        tx.control(_node(sql), line)
    assert tx.open and tx.timeout_ms("lock_timeout") == 2000 and tx.timeout_ms("statement_timeout") is None
    tx.control(_node("SET lock_timeout = '7s'"), 7)
    tx.control(_node("RELEASE SAVEPOINT a"), 8)
    tx.control(_node("COMMIT"), 9)
    assert tx.timeout_ms("lock_timeout") == 7000


def test_a_plain_set_replaces_a_set_local_made_before_it():
    tx = TxState()
    for line, sql in enumerate(["BEGIN", "SET LOCAL lock_timeout = '1s'", "SET lock_timeout = '3s'"], start=1):
        tx.control(_node(sql), line)
    assert tx.timeout_ms("lock_timeout") == 3000
    tx.control(_node("COMMIT"), 4)
    assert tx.timeout_ms("lock_timeout") == 3000


def test_a_lock_timeout_set_in_a_rolled_back_transaction_does_not_cover_later_ddl(tmp_path):
    from migrasafe.check import run
    from migrasafe.config import Config

    (tmp_path / "001_setup.sql").write_text("CREATE TABLE orders (id bigint PRIMARY KEY);\n")
    (tmp_path / "002_change.sql").write_text(
        "BEGIN;\nSET lock_timeout = '2s';\nROLLBACK;\nALTER TABLE orders ADD COLUMN note text;\n")
    found = [(f.line, f.rule) for f in run([str(tmp_path)], Config()).all_findings()
             if f.path.endswith("002_change.sql")]
    assert (4, "MS032") in found
    # Committed instead, the SET covers it.
    (tmp_path / "002_change.sql").write_text(
        "BEGIN;\nSET lock_timeout = '2s';\nCOMMIT;\nALTER TABLE orders ADD COLUMN note text;\n")
    found = [(f.line, f.rule) for f in run([str(tmp_path)], Config()).all_findings()
             if f.path.endswith("002_change.sql")]
    assert (4, "MS032") not in found
