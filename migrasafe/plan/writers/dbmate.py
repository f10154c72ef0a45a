"""dbmate: one file with `-- migrate:up` and `-- migrate:down`, `transaction:false` to opt out."""
from __future__ import annotations

import re

from .base import NewMigration, Writer


def main_file(version: str, slug: str, separator: str) -> str:
    return f"{version}_{slug}.sql"


def files(new: NewMigration) -> list[tuple[str, str]]:
    flag = "" if new.transactional else " transaction:false"
    return [(new.rel, f"{new.header}-- migrate:up{flag}\n{new.up}\n-- migrate:down{flag}\n{new.down}")]


def opt_out(fixer, analysed) -> bool:
    from ..fix import Edit

    match = re.search(r"^--\s*migrate:up\b([^\r\n]*)", fixer.text, re.M)
    if match is None:
        fixer.note(analysed, "no '-- migrate:up' line")
        return False
    fixer.allow(match.start(), match.end())
    if "transaction:" in match.group(1):
        fixer.edits.append(Edit(match.start(1), match.end(1),
                                re.sub(r"transaction:\S+", "transaction:false", match.group(1))))
    else:
        fixer.edits.append(Edit(match.end(1), match.end(1), " transaction:false"))
    return True


WRITER = Writer(
    format="dbmate", main_file=main_file, files=files, rerun="run `dbmate migrate` again",
    first_timestamp="%Y%m%d%H%M%S", opt_out=opt_out,
)
