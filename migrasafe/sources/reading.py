"""Turn a migration file's bytes into text, or say precisely why that is not possible."""
from __future__ import annotations

import codecs
import stat
from pathlib import Path

from .listing import sniffed_whole


class UnreadableFile(Exception):
    def __init__(self, message: str, line: int = 1):
        super().__init__(message)
        self.message = message
        self.line = line


def read_text(path: Path, encoding: str = "utf-8") -> str:
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            # A pipe would block the run until something writes to it; a device never ends.
            raise UnreadableFile("not a regular file (a pipe, socket or device): never opened")
        raw = sniffed_whole(path)
        if raw is None:
            raw = path.read_bytes()
    except OSError as err:
        raise UnreadableFile(f"cannot read file: {err.strerror or err}") from None
    return decode(raw, encoding)


def decode(raw: bytes, encoding: str = "utf-8") -> str:
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise UnreadableFile(f"unknown encoding {encoding!r}") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFile("UTF-16 text; migration tools and PostgreSQL clients read UTF-8")
    nul = raw.find(b"\0")
    if nul >= 0:
        # Text encodings never produce NUL in SQL; a NUL means a binary file (or UTF-16).
        line = raw.count(b"\n", 0, nul) + 1
        raise UnreadableFile(f"binary content (NUL byte at line {line}), not a SQL text file", line)
    if codec == "utf-8":
        codec = "utf-8-sig"  # Flyway and most editors drop a leading byte order mark
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise UnreadableFile(
            f"not valid {encoding} text: byte 0x{raw[err.start]:02x} at line {line} cannot be decoded",
            line,
        ) from None
