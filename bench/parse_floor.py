#!/usr/bin/env python3
"""The least any pglast-based Python checker pays on an input: start the interpreter, import
pglast, read the .sql files and build their syntax trees, then stop. No analysis, no output.

    python bench/parse_floor.py PATH     # a .sql file or a folder of them

Trees are built the way `migrasafe check` builds them (pglast's per-attribute checks off, no
cyclic garbage collection), so the
difference between this and a check is what migrasafe itself adds.
"""
import gc
import sys
from pathlib import Path

from pglast import ast, parser


def main(path: Path) -> int:
    files = sorted(path.glob("*.sql")) if path.is_dir() else [path]
    ast.Node.__setattr__ = object.__setattr__
    gc.disable()  # as in a check: the trees live until the end, rescanning them is wasted work
    statements = sum(len(parser.parse_sql(f.read_text(encoding="utf-8"))) for f in files)
    print(statements)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
