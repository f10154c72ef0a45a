"""The lock_timeout a migration runs under when its runner or database role sets one.

    [tool.migrasafe]
    lock_timeout = "2s"                            # every layout's runner sets it
    lock_timeout = { flyway = "2s", default = "5s" }   # per layout; a layout not named and no
                                                   # default: the migrations set their own
    max_lock_timeout = "10s"                       # a longer lock_timeout counts as none

Values use PostgreSQL's time syntax (2000, "2s", "500ms", "1min"). A timeout longer than
`max_lock_timeout` (default 10s) is treated as no timeout: the queue behind a waiting lock
request already stalls the application for that long. `SET lock_timeout` in a migration
overrides the configured value, as it overrides the role's setting on the server.
"""
from __future__ import annotations

from .transaction import parse_duration_ms

DEFAULT_CEILING_MS = 10_000


class TimeoutSettingError(Exception):
    pass


def _duration(value, what: str) -> int:
    ms = None if isinstance(value, bool) else parse_duration_ms(value)
    if ms is None or ms < 0:
        raise TimeoutSettingError(f'{what} must be a duration such as "2s", "500ms" or 2000 (milliseconds), '
                                  f'not {value!r}')
    return ms


def validate(lock_timeout, ceiling, layouts, where: str) -> None:
    """Raise TimeoutSettingError naming the key when a setting cannot be used."""
    if ceiling is not None:
        if _duration(ceiling, f"{where}: max_lock_timeout") == 0:
            raise TimeoutSettingError(f"{where}: max_lock_timeout must be more than 0")
    if lock_timeout is None:
        return
    if isinstance(lock_timeout, dict):
        known = set(layouts) | {"default"}
        for name, value in lock_timeout.items():
            if name not in known:
                raise TimeoutSettingError(f"{where}: lock_timeout.{name}: unknown layout (one of "
                                          f"{', '.join(sorted(known))})")
            _duration(value, f"{where}: lock_timeout.{name}")
    else:
        _duration(lock_timeout, f"{where}: lock_timeout")


def configured_ms(lock_timeout, layout: str) -> int | None:
    """The lock_timeout the runner sets for this layout, in ms (0: none); None when not said."""
    if lock_timeout is None:
        return None
    if isinstance(lock_timeout, dict):
        value = lock_timeout.get(layout, lock_timeout.get("default"))
        return None if value is None else parse_duration_ms(value)
    return parse_duration_ms(lock_timeout)


def ceiling_ms(ceiling) -> int:
    return DEFAULT_CEILING_MS if ceiling is None else parse_duration_ms(ceiling)


def shown(ms: int) -> str:
    if ms % 60_000 == 0:
        return f"{ms // 60_000}min"
    if ms % 1000 == 0:
        return f"{ms // 1000}s"
    return f"{ms}ms"
