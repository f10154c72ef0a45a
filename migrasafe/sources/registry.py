"""Every source format this package reads, by the name `config.format` uses."""
from __future__ import annotations

from . import dbmate, diesel, flyway, golang_migrate, plain, popx
from .formats import SourceFormat

FORMATS: dict[str, SourceFormat] = {
    f.name: f
    for f in (plain.FORMAT, flyway.FORMAT, golang_migrate.FORMAT, dbmate.FORMAT, diesel.FORMAT, popx.FORMAT)
}
