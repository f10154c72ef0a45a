"""Atlas's own directory format: `<version>_<name>.sql`, each file in its own transaction unless its
header says `-- atlas:txmode none` (a header is comment lines at the top ended by an empty line).
A directory in another tool's format (atlas.hcl `format`) is written by that tool's writer."""
from __future__ import annotations

from .base import NewMigration, Writer

TXMODE_NONE = "-- atlas:txmode none"


def main_file(version: str, slug: str, separator: str) -> str:
    return f"{version}_{slug}.sql"


def files(new: NewMigration) -> list[tuple[str, str]]:
    header = "" if new.transactional else TXMODE_NONE + "\n\n"
    return [(new.rel, header + new.header + new.up)]


def opt_out(fixer, analysed) -> bool:
    """Put `-- atlas:txmode none` in the header, replacing a `txmode file` there."""
    from ...sources.atlas.directives import header_directives
    from ..fix import Edit

    header = header_directives(fixer.text)
    current = next((d for d in header if d.name == "txmode"), None)
    if current is not None:
        start = fixer.starts[current.line - 1]
        end = fixer.text.find("\n", start)
        end = len(fixer.text) if end < 0 else end
        fixer.allow(start, end)
        fixer.edits.append(Edit(start, end, TXMODE_NONE))
        return True
    fixer.allow(0, 0)
    # Joining an existing header keeps its empty line; otherwise the directive needs one of its own.
    fixer.edits.append(Edit(0, 0, TXMODE_NONE + fixer.newline + ("" if header else fixer.newline)))
    return True


WRITER = Writer(
    format="atlas", main_file=main_file, files=files,
    rerun="fix the file, run `atlas migrate hash`, then `atlas migrate apply` again",
    rerun_outside=("Atlas records how many statements of a txmode none file ran and resumes after them: "
                   "fix the file, run `atlas migrate hash`, then `atlas migrate apply` again"),
    statement_by_statement=True, first_timestamp="%Y%m%d%H%M%S", opt_out=opt_out,
)
