"""`python -m migrasafe.sandbox FD`: the child process (see child.py)."""
from __future__ import annotations

import sys

from .child import _exit, main

if __name__ == "__main__":
    # Not sys.exit: threads the sandboxed code left running must not keep the process alive.
    _exit(main(sys.argv))
