"""migrasafe: a safety gate for PostgreSQL schema migrations."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # `import migrasafe; migrasafe.check(...)` imports the pipeline on first use only, so that
    # `migrasafe --version` stays instant.
    if name in ("check", "api"):
        from importlib import import_module

        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
