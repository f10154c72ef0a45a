"""Settings from `[tool.migrasafe]` in pyproject.toml or `migrasafe.toml`, then the command line."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PG_VERSION = 16
SUPPORTED_PG_VERSIONS = range(12, 19)


class ConfigError(Exception):
    """A setting that cannot be used; the message names the file and key."""


@dataclass
class Config:
    pg_version: int = DEFAULT_PG_VERSION
    select: list[str] = field(default_factory=list)  # empty: every rule
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)  # rule id or name → severity
    fail_on: str = "warning"
    # Format name → does its runner wrap each file in a transaction? Overrides the format default.
    transaction: dict[str, bool] = field(default_factory=dict)
    # "file" or "run" (every pending migration in one transaction), for all layouts or per layout
    # name ({ sql = "run", default = "file" }); None: each layout's own rule.
    transaction_scope: str | dict[str, str] | None = None
    exclude: list[str] = field(default_factory=list)  # glob patterns, relative to the config file
    format: str | None = None  # force a source format
    placeholders: dict[str, str] = field(default_factory=dict)  # Flyway ${name} values
    flyway_mixed: bool = False
    schema: list[str] = field(default_factory=list)  # pg_dump --schema-only files seeding the catalog
    timezone_utc: bool = False  # session TimeZone is UTC (timestamp → timestamptz is then free)
    # The lock_timeout the runner or role sets: "2s", or per layout { flyway = "2s", default = "5s" };
    # see migrasafe/timeouts.py. None: only the migrations' own SET counts.
    lock_timeout: str | int | dict | None = None
    max_lock_timeout: str | int | None = None  # a longer lock_timeout counts as none (default 10s)
    alembic: dict = field(default_factory=dict)
    # [tool.migrasafe.django]: settings = "proj.settings", cache = false (see sources/django/read.py)
    django: dict = field(default_factory=dict)
    baseline: str | None = None  # findings file from `migrasafe baseline`, relative to the config file
    stats: str | None = None  # table sizes file, relative to the config file
    sizes: dict = field(default_factory=dict)  # size thresholds, see migrasafe/sizes.py
    replay: dict = field(default_factory=dict)  # [tool.migrasafe.replay], see migrasafe/replay/settings.py
    # Files added or changed since --since (resolved paths); None when --since is not given.
    changed: frozenset[Path] | None = None
    # --from: the migration the database is at, in any layout with an ordered history (Alembic's own
    # reading takes it from alembic["from"]); the migrations after it are the pending run.
    start: str | None = None
    stop: str | None = None  # --to: the last migration checked (every ordered layout)
    since: str | None = None  # the --since ref itself: the history checks read its tree (migrasafe/history)
    # Load unchanged migrations' results from the cache (migrasafe/cache); `check` on the command
    # line turns it on unless --no-cache or `cache = false`.
    cache: bool | None = None
    # Processes that judge a run without the cache (migrasafe/parallel); the command line gives
    # every CPU this process may use.
    jobs: int = 1
    root: Path | None = None  # folder of the config file, when one was found
    source: str | None = None  # the config file, for messages


CONFIG_KEYS = {
    "pg_version", "select", "ignore", "severity", "fail_on", "transaction", "exclude",
    "transaction_scope", "cache", "format", "placeholders", "flyway_mixed", "schema", "timezone_utc", "alembic",
    "django", "baseline", "stats", "sizes", "replay", "lock_timeout", "max_lock_timeout",
}


def find_config(start: Path) -> Path | None:
    """Nearest migrasafe.toml, or pyproject.toml with a [tool.migrasafe] table, walking up."""
    try:
        start = start.resolve()
    except (OSError, RuntimeError):  # a link loop: the paths themselves are reported later
        start = start.absolute()
    here = start if start.is_dir() else start.parent
    for folder in (here, *here.parents):
        own = folder / "migrasafe.toml"
        if own.is_file():
            return own
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            import tomllib  # only when there is a file to read: it is slow to import

            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            if "migrasafe" in data.get("tool", {}):
                return pyproject
    return None


def load_config(path: Path) -> Config:
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read: {err}") from None
    table = data.get("tool", {}).get("migrasafe", {}) if path.name == "pyproject.toml" else data
    return config_from_table(table, path)


def config_from_table(table: dict, path: Path) -> Config:
    where = f"{path}: [tool.migrasafe]" if path.name == "pyproject.toml" else str(path)
    unknown = sorted(set(table) - CONFIG_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    cfg = Config(root=path.parent, source=str(path))
    for key, value in table.items():
        setattr(cfg, key, value)
    validate(cfg, where)
    return cfg


def validate(cfg: Config, where: str) -> None:
    if not isinstance(cfg.pg_version, int) or cfg.pg_version not in SUPPORTED_PG_VERSIONS:
        raise ConfigError(f"{where}: pg_version must be 12 to 18, not {cfg.pg_version!r}")
    if cfg.fail_on not in ("info", "warning", "error", "never"):
        raise ConfigError(f"{where}: fail_on must be info, warning, error or never")
    for rule, severity in cfg.severity.items():
        if severity not in ("info", "warning", "error"):
            raise ConfigError(f"{where}: severity of {rule} must be info, warning or error")
    for name, value in cfg.transaction.items():
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: transaction.{name} must be true or false")
    if cfg.cache is not None and not isinstance(cfg.cache, bool):
        raise ConfigError(f"{where}: cache must be true or false")
    scopes = cfg.transaction_scope
    values = scopes.values() if isinstance(scopes, dict) else [] if scopes is None else [scopes]
    if not isinstance(scopes, (str, dict, type(None))) or any(v not in ("file", "run") for v in values):
        raise ConfigError(f'{where}: transaction_scope must be "file" or "run", or a table of them by layout')
    for key in ("select", "ignore", "exclude", "schema"):
        value = getattr(cfg, key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key} must be a list of strings")
    for key in ("baseline", "stats"):
        value = getattr(cfg, key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{where}: {key} must be a file name")
    if cfg.lock_timeout is not None or cfg.max_lock_timeout is not None:
        from .sources.registry import FORMATS
        from .timeouts import TimeoutSettingError, validate as validate_timeouts

        try:
            validate_timeouts(cfg.lock_timeout, cfg.max_lock_timeout, [*FORMATS, "alembic", "django"], where)
        except TimeoutSettingError as err:
            raise ConfigError(str(err)) from None
    if cfg.alembic:
        from .sources.alembic.settings import SettingsError, validate_table

        try:
            validate_table(cfg.alembic, where)
        except SettingsError as err:
            raise ConfigError(str(err)) from None
    if cfg.django:
        unknown = sorted(set(cfg.django) - {"settings", "cache"}) if isinstance(cfg.django, dict) else ["?"]
        if unknown or not isinstance(cfg.django.get("settings", ""), str) or not isinstance(
                cfg.django.get("cache", True), bool):
            raise ConfigError(f"{where}: [django] takes settings = \"module\" and cache = true/false"
                              + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    if cfg.sizes:
        from .sizes import SizesError, thresholds_from_table

        try:
            thresholds_from_table(cfg.sizes, where)
        except SizesError as err:
            raise ConfigError(str(err)) from None
    if cfg.replay:
        from .replay.settings import SettingsError as ReplaySettingsError, validate_table as validate_replay

        try:
            validate_replay(cfg.replay, where)
        except ReplaySettingsError as err:
            raise ConfigError(str(err)) from None


def config_file_path(cfg: Config, value: str) -> Path:
    """A file named in the configuration, which is relative to the configuration file."""
    path = Path(value).expanduser()
    if cfg.root is not None and not path.is_absolute():
        return cfg.root / path
    return path
