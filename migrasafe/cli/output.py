"""Writing to the terminal."""
from __future__ import annotations

import os
import sys


def wants_color(no_color: bool) -> bool:
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def write(text: str) -> None:
    write_chunks((text,))


def write_chunks(chunks) -> None:
    """Write the pieces of one output as they come: a large report is never one string."""
    stdout = sys.stdout
    # A non-UTF-8 terminal must not turn "—" in a message into a crash.
    if getattr(stdout, "errors", None) == "strict" and hasattr(stdout, "reconfigure"):
        stdout.reconfigure(errors="backslashreplace")
    for text in chunks:
        stdout.write(text)
    stdout.flush()
