"""diesel: <version>_<name>/up.sql and down.sql, metadata.toml `run_in_transaction = false`."""
from __future__ import annotations

from .base import NewMigration, Writer


def main_file(version: str, slug: str, separator: str) -> str:
    return f"{version}_{slug}/up.sql"


def files(new: NewMigration) -> list[tuple[str, str]]:
    folder = new.rel.rsplit("/", 1)[0]
    out = [(new.rel, new.header + new.up), (f"{folder}/down.sql", f"-- Reverts {new.rel}.\n" + new.down)]
    if not new.transactional:
        out.append((f"{folder}/metadata.toml", f"# {new.outside_reason}\nrun_in_transaction = false\n"))
    return out


def opt_out(fixer, analysed) -> bool:
    fixer.diesel_metadata(False)
    return True


WRITER = Writer(
    format="diesel", main_file=main_file, files=files, rerun="run `diesel migration run` again",
    last_version=lambda versions: max(versions, key=lambda v: v.replace("-", "")),
    first_timestamp="%Y-%m-%d-%H%M%S", opt_out=opt_out,
)
