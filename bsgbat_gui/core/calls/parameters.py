"""Calls as a table of parameters in true units, and how one call's parameters are measured.

Every parameter comes from the call's region of the linear spectrogram (dB re full scale, a full
-scale sine at 0 dB) and the noise floor under it; ``README.md`` ("Call measurement") defines
each in one sentence. The table is columnar (numpy arrays), as detection events are: an hour
of a busy site holds tens of thousands of calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from collections.abc import Sequence

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Call:
    """One call's parameters (a row of :class:`CallTable`); ``interval_ms`` is NaN for the
    first call of a recording.
    """

    start_s: float
    end_s: float
    duration_ms: float
    fmax_khz: float
    fmin_khz: float
    bandwidth_khz: float
    fme_khz: float
    slope_khz_per_ms: float
    peak_level_db: float
    snr_db: float
    interval_ms: float


CALL_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Call))
PEAK_LEVEL_COLUMN = CALL_FIELDS.index("peak_level_db")  # in a measured row (without interval)


@dataclass(frozen=True)
class CallTable:
    """Calls as parallel float64 columns of shape ``[n_calls]``, in order of start time.

    Times in real seconds from the recording's start, durations and intervals in real ms,
    frequencies in real kHz, levels in dB (``peak_level_db`` re full scale, ``snr_db`` above the
    noise floor), ``slope_khz_per_ms`` negative for a downward sweep; ``interval_ms`` is start
    to start from the previous call, NaN for the first.
    """

    start_s: FloatArray
    end_s: FloatArray
    duration_ms: FloatArray
    fmax_khz: FloatArray
    fmin_khz: FloatArray
    bandwidth_khz: FloatArray
    fme_khz: FloatArray
    slope_khz_per_ms: FloatArray
    peak_level_db: FloatArray
    snr_db: FloatArray
    interval_ms: FloatArray

    def __len__(self) -> int:
        return len(self.start_s)

    def call(self, index: int) -> Call:
        """Row ``index`` as a :class:`Call`."""
        return Call(*(float(getattr(self, name)[index]) for name in CALL_FIELDS))

    def calls(self) -> list[Call]:
        """Every row as a :class:`Call`, in order."""
        return [self.call(i) for i in range(len(self))]

    def select(self, index: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> CallTable:
        """The rows picked by an index or mask (``interval_ms`` as measured in the full table)."""
        return CallTable(**{name: np.asarray(getattr(self, name)[index]) for name in CALL_FIELDS})

    @classmethod
    def empty(cls) -> CallTable:
        """A table with no calls."""
        return cls(**{name: np.zeros(0) for name in CALL_FIELDS})

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[float]]) -> CallTable:
        """A table of measured rows (``start_s … snr_db``, without ``interval_ms``), sorted by
        start time (then FME), with ``interval_ms`` filled in.
        """
        if not rows:
            return cls.empty()
        data = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(CALL_FIELDS) - 1)
        order = np.lexsort((data[:, CALL_FIELDS.index("fme_khz")], data[:, 0]))
        data = data[order]
        interval = np.full(len(data), np.nan)
        interval[1:] = np.diff(data[:, 0]) * 1000.0
        columns = [np.ascontiguousarray(data[:, i]) for i in range(data.shape[1])]
        return cls(**dict(zip(CALL_FIELDS, [*columns, interval], strict=True)))


def parabolic_peak_offset(left: float, centre: float, right: float) -> float:
    """Where, in bins from the centre one (−0.5 to 0.5), a parabola through three levels peaks.

    Parameters
    ----------
    left, centre, right
        Levels (dB) of three adjacent bins, the centre one the highest.
    """
    curvature = left - 2.0 * centre + right
    if not (curvature < 0 and math.isfinite(curvature)):
        return 0.0
    return float(np.clip(0.5 * (left - right) / curvature, -0.5, 0.5))


@dataclass(frozen=True)
class RegionMeasure:
    """What :func:`measure_region` needs of the spectrogram around one call.

    Attributes
    ----------
    level_db
        ``[n_rows, n_bins]`` levels (dB re full scale) of the call's bounding box.
    inside
        ``[n_rows, n_bins]`` which cells of the box belong to the call.
    floor_db
        ``[n_bins]`` the noise floor of the box's bins.
    freqs_khz
        ``[n_bins]`` the box's bin centres.
    bin_khz
        Bin spacing.
    row_times_s
        ``[n_rows]`` the box's frame centre times.
    hop_s
        Time between frames.
    """

    level_db: npt.NDArray[np.float32]
    inside: npt.NDArray[np.bool_]
    floor_db: npt.NDArray[np.float32]
    freqs_khz: FloatArray
    bin_khz: float
    row_times_s: FloatArray
    hop_s: float


def peak_cell(region: RegionMeasure) -> tuple[int, int]:
    """Row and bin (in the box) of the call's loudest cell."""
    masked = np.where(region.inside, region.level_db, -np.inf)
    row, col = np.unravel_index(int(np.argmax(masked)), masked.shape)
    return int(row), int(col)


def measure_region(
    region: RegionMeasure,
    *,
    edge_db: float,
    neighbours_db: tuple[float, float],
    recording_duration_s: float,
) -> tuple[float, ...]:
    """One call's parameters, ``start_s … snr_db`` in :data:`CALL_FIELDS` order (no interval).

    Parameters
    ----------
    region
        The call's cells and their surroundings.
    edge_db
        Fmax and Fmin are the extremes of the call's cells within this many dB of its peak;
        the slope is fitted to the frames whose loudest call cell is within it too.
    neighbours_db
        Levels of the bins below and above the peak cell in its frame (NaN where outside the
        analysed band), for the parabolic refinement of the frequency of maximum energy.
    recording_duration_s
        End times are clipped to it.
    """
    level = region.level_db
    inside = region.inside
    masked = np.where(inside, level, np.float32(-np.inf))
    row, col = peak_cell(region)
    peak_db = float(level[row, col])

    # Time: the frames the call's cells span, each standing for one hop around its centre.
    rows_used = np.flatnonzero(inside.any(axis=1))
    half_hop = region.hop_s / 2
    start_s = max(0.0, float(region.row_times_s[rows_used[0]]) - half_hop)
    end_s = min(recording_duration_s, float(region.row_times_s[rows_used[-1]]) + half_hop)
    duration_ms = (end_s - start_s) * 1000.0

    # Frequency of maximum energy: the peak cell, refined between bins by a parabola in dB.
    below, above = neighbours_db
    offset = 0.0
    if math.isfinite(below) and math.isfinite(above):
        offset = parabolic_peak_offset(below, peak_db, above)
    fme_khz = float(region.freqs_khz[col]) + offset * region.bin_khz

    # Band edges at edge_db below the peak.
    strong = masked >= peak_db - edge_db
    strong_bins = np.flatnonzero(strong.any(axis=0))
    fmin_khz = float(region.freqs_khz[strong_bins[0]])
    fmax_khz = float(region.freqs_khz[strong_bins[-1]])

    # Slope: a least-squares line through the ridge (each frame's loudest call cell).
    ridge_col = np.argmax(masked, axis=1)
    ridge_db = masked[np.arange(len(masked)), ridge_col]
    use = ridge_db >= peak_db - edge_db
    slope = 0.0
    if int(use.sum()) >= 2:
        t_ms = region.row_times_s[use] * 1000.0
        f_khz = region.freqs_khz[ridge_col[use]]
        t_c = t_ms - t_ms.mean()
        denominator = float(np.dot(t_c, t_c))
        if denominator > 0:
            slope = float(np.dot(t_c, f_khz - f_khz.mean())) / denominator

    snr_db = peak_db - float(region.floor_db[col])
    return (
        start_s,
        end_s,
        duration_ms,
        fmax_khz,
        fmin_khz,
        fmax_khz - fmin_khz,
        fme_khz,
        slope,
        peak_db,
        snr_db,
    )
