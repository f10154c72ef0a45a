"""Which type changes rewrite; each claim is also checked on real servers through corpus/."""
import pytest

from migrasafe.catalog.state import TypeSpec as T
from migrasafe.locks.types import narrows, rewrites


@pytest.mark.parametrize("old,new,expected", [
    (T("varchar", (100,)), T("varchar", (200,)), False),
    (T("varchar", (200,)), T("varchar", (100,)), True),
    (T("varchar", (100,)), T("varchar"), False),
    (T("varchar", (100,)), T("text"), False),
    (T("text"), T("varchar"), False),
    (T("text"), T("varchar", (10,)), True),
    (T("numeric", (10, 2)), T("numeric", (12, 2)), False),
    (T("numeric", (10, 2)), T("numeric", (12, 3)), True),
    (T("numeric", (10, 2)), T("numeric"), False),
    (T("int4"), T("int8"), True),
    (T("cidr"), T("inet"), False),
    (T("bpchar", (5,)), T("text"), True),
    (T("int4"), T("int4", array=True), True),
])
def test_rewrites(old, new, expected):
    assert rewrites(old, new, pg_version=16, timezone_utc=False) is expected


def test_timestamp_to_timestamptz_is_free_only_in_utc():
    old, new = T("timestamp"), T("timestamptz")
    assert rewrites(old, new, pg_version=16, timezone_utc=True) is False
    assert rewrites(old, new, pg_version=16, timezone_utc=False) is True


@pytest.mark.parametrize("old,new,expected", [
    (T("int4"), T("int8"), False),
    (T("int8"), T("int4"), True),
    (T("varchar", (200,)), T("varchar", (50,)), True),
    (T("varchar", (50,)), T("text"), False),
    (T("text"), T("int4"), True),
    (T("text"), T("varchar"), False),
    (T("text"), T("varchar", (20,)), True),
])
def test_narrows(old, new, expected):
    assert narrows(old, new) is expected


def test_each_mode_says_what_it_blocks_as_the_conflict_table_does():
    from migrasafe.locks.modes import describe_blocking

    assert describe_blocking("AccessShareLock") == "blocks only ACCESS EXCLUSIVE DDL"
    assert "CREATE INDEX" in describe_blocking("RowExclusiveLock")  # SHARE conflicts with ROW EXCLUSIVE
    assert "REFRESH" in describe_blocking("RowShareLock")  # EXCLUSIVE conflicts with ROW SHARE
    assert describe_blocking("ShareUpdateExclusiveLock").startswith("blocks other DDL")
    assert describe_blocking("ShareLock") == "blocks writes"
    assert describe_blocking("AccessExclusiveLock") == "blocks reads and writes"
