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
