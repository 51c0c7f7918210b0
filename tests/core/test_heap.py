"""The heap trimmer gives freed memory back where glibc keeps it, from its own thread, at most
once per interval however often it is asked."""

from __future__ import annotations

import time

import numpy as np
import pytest

from bsgbat_gui.core.heap import HeapTrimmer


def resident_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_many_asks_make_few_trims_and_freed_pieces_go_back() -> None:
    trimmer = HeapTrimmer(interval_s=0.5)
    if not trimmer.available:
        pytest.skip("no glibc malloc_trim on this platform")
    # Many pieces under glibc's mmap threshold, then all but every 50th freed: the heap keeps
    # the free pages between the survivors until trimmed.
    pieces = [np.ones(4_000, dtype=np.float64) for _ in range(8_000)]  # 32 KB each, 256 MB
    kept = pieces[::50]
    del pieces
    before = resident_mb()
    for _ in range(20):
        trimmer.trim_soon()
    deadline = time.monotonic() + 10
    while trimmer.trims < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert trimmer.trims == 1  # twenty asks in a burst: one trim now, the next after 0.5 s
    time.sleep(0.1)
    after = resident_mb()
    assert after < before - 100, (before, after)  # 250 MB freed in pieces, most returned
    assert len(kept) == 160
