"""One status line on standard error while a replay runs, redrawn in place; silent when not a terminal."""
from __future__ import annotations

import sys
import time

BAR_WIDTH = 24
# Redrawing faster than the eye reads only costs time in a tight seeding loop.
MIN_REDRAW_SECONDS = 0.1


class Progress:
    def __init__(self, enabled: bool | None = None, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.prefix = ""
        self._last_draw = 0.0
        self._shown = False

    def set_prefix(self, prefix: str) -> None:
        self.prefix = prefix

    def step(self, label: str, done: int | None = None, total: int | None = None, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < MIN_REDRAW_SECONDS:
            return
        self._last_draw = now
        line = f"{self.prefix}{label}"
        if done is not None and total:
            fraction = min(max(done / total, 0.0), 1.0)
            filled = round(fraction * BAR_WIDTH)
            line = f"{self.prefix}[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%} {label}"
        self.stream.write("\r\x1b[2K" + line[:max(20, terminal_width() - 1)])
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._shown = False


def terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 20)).columns
