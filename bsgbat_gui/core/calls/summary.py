"""A summary of the calls in a span of time: what a detection's row and the window's call table
show beside a species.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bsgbat_gui.core.calls.parameters import CallTable


@dataclass(frozen=True)
class CallSummary:
    """The calls starting in a span: how many, and their median FME (kHz), duration (ms) and
    interval (ms, start to start, between calls of the span; NaN with fewer than two calls).
    Medians are NaN when the span holds no call.
    """

    n_calls: int
    median_fme_khz: float
    median_duration_ms: float
    median_interval_ms: float


def summarise_calls(calls: CallTable, start_s: float, end_s: float) -> CallSummary:
    """Summarise the calls of ``calls`` that start in ``[start_s, end_s)`` (real seconds).

    Intervals are measured between the calls of the span only, so a detection's first call
    does not carry the silence before it.
    """
    inside = (calls.start_s >= start_s) & (calls.start_s < end_s)
    n = int(inside.sum())
    if n == 0:
        return CallSummary(0, math.nan, math.nan, math.nan)
    starts = np.sort(calls.start_s[inside])
    interval = float(np.median(np.diff(starts))) * 1000.0 if n > 1 else math.nan
    return CallSummary(
        n_calls=n,
        median_fme_khz=float(np.median(calls.fme_khz[inside])),
        median_duration_ms=float(np.median(calls.duration_ms[inside])),
        median_interval_ms=interval,
    )
