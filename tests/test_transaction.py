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
