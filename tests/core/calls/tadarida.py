"""Tadarida-D's call table (``.ta``) and the matching of our calls to its calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linear_sum_assignment

if TYPE_CHECKING:
    from pathlib import Path

    from bsgbat_gui.core.calls.parameters import CallTable

# A pair can match when the time spans overlap (give or take this) ...
TIME_SLACK_MS = 1.0
# ... and Tadarida's peak frequency lies within our call's band (give or take this).
FREQ_SLACK_KHZ = 2.0


@dataclass(frozen=True)
class TaCalls:
    start_ms: np.ndarray
    dur_ms: np.ndarray
    fmax_khz: np.ndarray
    fmin_khz: np.ndarray
    freq_mp_khz: np.ndarray


def read_ta(path: Path) -> TaCalls:
    import pandas as pd

    ta = pd.read_csv(path, sep="\t")
    return TaCalls(*(ta[c].to_numpy(float) for c in ("StTime", "Dur", "Fmax", "Fmin", "FreqMP")))


@dataclass(frozen=True)
class Agreement:
    n_theirs: int
    n_ours: int
    pairs: list[tuple[int, int]]  # (their row, our row)
    fme_diff_khz: np.ndarray  # ours - FreqMP, per pair
    dur_diff_ms: np.ndarray  # ours - Dur
    start_diff_ms: np.ndarray  # ours - StTime
    fmax_diff_khz: np.ndarray
    fmin_diff_khz: np.ndarray

    @property
    def recall(self) -> float:
        return len(self.pairs) / self.n_theirs

    @property
    def precision(self) -> float:
        return len(self.pairs) / max(self.n_ours, 1)

    @property
    def fme_within_2khz(self) -> float:
        return float(np.mean(np.abs(self.fme_diff_khz) <= 2.0))

    def summary(self) -> str:
        return (
            f"recall {self.recall:.3f} ({len(self.pairs)}/{self.n_theirs}), "
            f"our calls matched {self.precision:.3f} ({len(self.pairs)}/{self.n_ours}), "
            f"median |dFME| {np.median(np.abs(self.fme_diff_khz)):.2f} kHz, "
            f"within 2 kHz {self.fme_within_2khz:.3f}, "
            f"median dDur {np.median(self.dur_diff_ms):+.2f} ms "
            f"(median |dDur| {np.median(np.abs(self.dur_diff_ms)):.2f}), "
            f"median dStart {np.median(self.start_diff_ms):+.2f} ms, "
            f"median dFmax {np.median(self.fmax_diff_khz):+.2f}, "
            f"dFmin {np.median(self.fmin_diff_khz):+.2f} kHz"
        )


def match(ours: CallTable, theirs: TaCalls) -> Agreement:
    """One-to-one matching by time (and frequency, where calls overlap in time).

    A pair is possible when the spans overlap (±TIME_SLACK_MS) and Tadarida's peak frequency
    lies in our call's Fmin–Fmax (±FREQ_SLACK_KHZ); among possible pairs the assignment
    minimises start difference (ms) + peak-frequency difference (kHz) / 5.
    """
    o_start = ours.start_s * 1000
    o_end = ours.end_s * 1000
    t_start, t_end = theirs.start_ms, theirs.start_ms + theirs.dur_ms
    overlap = (o_start[None, :] <= t_end[:, None] + TIME_SLACK_MS) & (
        t_start[:, None] <= o_end[None, :] + TIME_SLACK_MS
    )
    in_band = (theirs.freq_mp_khz[:, None] >= ours.fmin_khz[None, :] - FREQ_SLACK_KHZ) & (
        theirs.freq_mp_khz[:, None] <= ours.fmax_khz[None, :] + FREQ_SLACK_KHZ
    )
    possible = overlap & in_band
    cost = np.abs(o_start[None, :] - t_start[:, None]) + (
        np.abs(ours.fme_khz[None, :] - theirs.freq_mp_khz[:, None]) / 5
    )
    big = 1e6
    rows, cols = linear_sum_assignment(np.where(possible, cost, big))
    pairs = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if possible[r, c]]
    t = np.array([p[0] for p in pairs], dtype=int)
    o = np.array([p[1] for p in pairs], dtype=int)
    return Agreement(
        n_theirs=len(theirs.start_ms),
        n_ours=len(ours),
        pairs=pairs,
        fme_diff_khz=ours.fme_khz[o] - theirs.freq_mp_khz[t],
        dur_diff_ms=ours.duration_ms[o] - theirs.dur_ms[t],
        start_diff_ms=o_start[o] - t_start[t],
        fmax_diff_khz=ours.fmax_khz[o] - theirs.fmax_khz[t],
        fmin_diff_khz=ours.fmin_khz[o] - theirs.fmin_khz[t],
    )
