"""Give the memory a season's loading freed back to the operating system.

Loading 100,000 analyses and finding their ~1 M events again after every burst frees hundreds
of MB in pieces glibc's allocator keeps for itself (arenas, raised mmap threshold): the window
of a season measured 1.5 GB resident where 1.0 GB was in use. ``malloc_trim(0)`` returns the
free pages; Dask's workers do the same for the same reason ("memory not released back to the
OS" in ``distributed``'s documentation). It runs in a thread of its own — it walks the whole
heap (tens of ms on a GB) and ctypes releases the GIL meanwhile — at most every
``interval_s``; elsewhere than glibc (macOS, Windows, musl) nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)


def _glibc_malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc (musl has no malloc_trim)
    return trim


class HeapTrimmer:
    """Trims the heap (see the module's description) soon after :meth:`trim_soon` is called,
    at most every ``interval_s``, in a daemon thread started on first use.
    """

    def __init__(self, interval_s: float = 2.0) -> None:
        self.interval_s = interval_s
        self._trim = _glibc_malloc_trim()
        self._wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.trims = 0  # how many were done (for tests and the benchmark)

    @property
    def available(self) -> bool:
        """Whether the allocator can be trimmed here (glibc)."""
        return self._trim is not None

    def trim_soon(self) -> None:
        """Ask for a trim (several asks before it runs make one)."""
        if self._trim is None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="heap-trim", daemon=True)
                self._thread.start()
        self._wanted.set()

    def _run(self) -> None:
        assert self._trim is not None
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                self._trim(0)
            except OSError as exc:  # pragma: no cover - the call does not fail on glibc
                log.info("malloc_trim failed: %s", exc)
                return
            self.trims += 1
            # Wait, so a burst of asks (a block of analyses every ~0.2 s while loading) trims every
            # interval_s, not after each.
            time.sleep(self.interval_s)
