"""A one-line progress bar on stderr for headless commands (silent when not a terminal)."""

from __future__ import annotations

import sys
import time
from typing import IO


class ProgressBar:
    """``[#####.....] 42/100 label`` redrawn in place, at most ten times a second."""

    def __init__(self, total: int, *, stream: IO[str] | None = None, width: int = 30) -> None:
        self.total = max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self.width = width
        self._last_draw = 0.0
        self._shown = False

    def update(self, done: float, label: str = "") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw < 0.1 and done < self.total:
            return
        self._last_draw = now
        fraction = min(max(done / self.total, 0.0), 1.0)
        filled = round(fraction * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        text = f"\r[{bar}] {fraction * 100:5.1f}% {label}"[:120]
        self.stream.write(text.ljust(120))
        self.stream.flush()
        self._shown = True

    def message(self, line: str) -> None:
        """Print a whole line above the bar (warnings, errors) without garbling it."""
        self.clear()
        self.stream.write(line + "\n")
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r" + " " * 120 + "\r")
            self.stream.flush()
            self._shown = False
