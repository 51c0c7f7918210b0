"""A linear-frequency spectrogram in true kHz and dB, for a span of a recording at screen size.

What a bat worker measures calls on: an STFT of the signal at its **true** rate (a time-expanded
file's samples are read as they were recorded, never resampled), so frequencies are true kHz up
to the true Nyquist and times are true seconds. It is computed for the span on screen only, at
about one column per screen pixel: each column is the **maximum** over the STFT frames it
covers (every sample is in some frame), so a 2 ms call stays visible however far the view is
zoomed out. The samples are read block by block, so a long span never sits in memory.

Frames are centred on multiples of the hop (frame ``f`` covers samples
``[f * hop - window / 2, f * hop + window / 2)``, zeros outside the file), so a column's frames
do not depend on where a span starts: panning gives the same cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.audio.recording import ModelRateSignal

if TYPE_CHECKING:
    from collections.abc import Callable

    from bsgbat_gui.core.audio.recording import RecordingInfo

FloatArray = npt.NDArray[np.float32]

WINDOW_S = 0.0008  # the analysis window's length, rounded to a power of two of samples
# Power below this (digital silence, the padding beyond the file) is drawn at the floor: about
# 50 dB below a 24-bit file's quantisation noise in one bin, so no real sound reaches it.
POWER_FLOOR = 1e-15
LINEAR_DB_FLOOR = float(10.0 * np.log10(POWER_FLOOR))  # -150 dB
DEFAULT_MAX_COLUMNS = 2048
# Frames per block: ~2 MB of spectra, which stay in the CPU's caches (8192 took twice as long).
_BLOCK_FRAMES = 1024


def window_length(true_rate_hz: int) -> int:
    """The STFT window in samples: the power of two nearest to :data:`WINDOW_S`.

    256 at 384 and 250 kHz (0.67 / 1.0 ms), 128 at 144 kHz, 512 at 500 kHz: short enough for a
    2 ms FM sweep, long enough for ~1.5 kHz bins.
    """
    return int(2 ** max(5, round(np.log2(true_rate_hz * WINDOW_S))))


@lru_cache(maxsize=4)
def _hann(n: int) -> FloatArray:
    """A periodic Hann window scaled so a full-scale sine's bin reads 0 dB (dBFS).

    A sine of amplitude A peaks at ``A * sum(w) / 2`` in the spectrum; dividing by ``sum(w) / 2``
    makes that A, and its power A².
    """
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
    scaled: FloatArray = (w / (w.sum() / 2)).astype(np.float32)
    scaled.setflags(write=False)
    return scaled


@dataclass(frozen=True)
class LinearSpectrogram:
    """A span's linear-frequency spectrogram in dBFS, ready to draw.

    ``db[c, k]`` is column ``c`` (``seconds_per_column`` of true time from ``start_s``), bin
    ``k`` (``k * bin_khz`` true kHz, 0 to the Nyquist frequency): the highest power over the
    column's frames, in dB relative to a full-scale sine; cells with no sound read
    :data:`LINEAR_DB_FLOOR`, never -inf.
    """

    db: FloatArray  # [n_columns, n_bins]
    start_s: float  # where column 0 starts, true seconds
    seconds_per_column: float
    true_rate_hz: int
    n_fft: int
    frames_per_column: int
    duration_s: float  # the whole recording's, true seconds

    @property
    def end_s(self) -> float:
        """Where the last column ends, in true seconds."""
        return float(self.start_s + self.db.shape[0] * self.seconds_per_column)

    @property
    def hop(self) -> int:
        """Samples between frames."""
        return round(self.seconds_per_column * self.true_rate_hz / self.frames_per_column)

    @property
    def is_finest(self) -> bool:
        """Whether no finer image of this span can be computed (one frame per column, at the
        smallest hop, :func:`frame_hop`).
        """
        return self.frames_per_column == 1 and self.hop <= self.n_fft // 2 // 8

    @property
    def nyquist_khz(self) -> float:
        """The highest frequency recorded, in true kHz (half the true sample rate)."""
        return self.true_rate_hz / 2000.0

    @property
    def bin_khz(self) -> float:
        """The spacing of the frequency bins, in kHz."""
        return self.true_rate_hz / self.n_fft / 1000.0

    @property
    def freq_khz(self) -> npt.NDArray[np.float64]:
        """Each bin's centre frequency in true kHz (0 … Nyquist)."""
        return np.arange(self.db.shape[1], dtype=np.float64) * self.bin_khz

    def value_at(self, t_s: float, freq_khz: float) -> float | None:
        """The dB of the cell at ``t_s`` (true seconds), ``freq_khz``; None outside the image."""
        column = int(np.floor((t_s - self.start_s) / self.seconds_per_column))
        row = round(freq_khz / self.bin_khz)
        if not (0 <= column < self.db.shape[0] and 0 <= row < self.db.shape[1]):
            return None
        return float(self.db[column, row])

    def auto_levels(self) -> tuple[float, float]:
        """Colour levels (low, high) in dB that ignore digital silence (cells at the floor)."""
        values = self.db[self.db > LINEAR_DB_FLOOR + 0.01]
        if values.size == 0:
            return LINEAR_DB_FLOOR, LINEAR_DB_FLOOR + 1.0
        low, high = np.percentile(values, [20.0, 99.9])
        return float(low), float(max(high, low + 1.0))


def frame_hop(window: int, samples_per_column: float) -> int:
    """The hop between frames: half a window (50 % overlap) unless columns are at least twice
    finer than that, then down to an eighth of a window, so a view zoomed in on one call is
    drawn from finer frames.
    """
    hop = window // 2
    while hop > window // 8 and hop >= 2 * samples_per_column:
        hop //= 2
    return max(1, hop)


def linear_spectrogram(
    info: RecordingInfo,
    start_s: float,
    end_s: float,
    *,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    should_stop: Callable[[], bool] | None = None,
) -> LinearSpectrogram | None:
    """The linear-frequency spectrogram of ``[start_s, end_s]`` (true seconds) of a recording.

    Parameters
    ----------
    info
        The recording (its true rate undoes time expansion).
    start_s, end_s
        The span, in true seconds; clipped to the recording.
    max_columns
        About the screen width in pixels: frames are max-pooled, a whole number per column,
        into at most ``max_columns`` columns (fewer when the span holds fewer frames).
    should_stop
        Checked between blocks; when it turns true the computation stops.

    Returns
    -------
    LinearSpectrogram or None
        None when stopped part-way.

    Raises
    ------
    RecordingError
        When the file cannot be read.
    """
    rate = info.true_rate_hz
    window = window_length(rate)
    n_fft = 2 * window  # zero-padded twice: smoother rows, no finer resolution claimed
    n_samples = info.header_frames
    span_start = min(max(0.0, start_s), info.duration_s) * rate
    span_stop = min(max(span_start / rate, end_s), info.duration_s) * rate
    hop = frame_hop(window, (span_stop - span_start) / max(1, max_columns))
    n_total = 1 + -(-n_samples // hop)  # the last frame centred at or past the end: covers it
    first = min(n_total - 1, int(np.floor(span_start / hop + 0.5)))
    stop = min(n_total, max(first + 1, int(np.ceil(span_stop / hop + 0.5))))
    per_column = max(1, -(-(stop - first) // max(1, max_columns)))
    first -= first % per_column  # pool on a fixed grid: panning does not shimmer
    n_columns = -(-(stop - first) // per_column)
    power = np.zeros((n_columns, n_fft // 2 + 1), np.float32)
    columns_per_block = max(1, _BLOCK_FRAMES // per_column)
    with ModelRateSignal(info) as signal:
        for c0 in range(0, n_columns, columns_per_block):
            c1 = min(c0 + columns_per_block, n_columns)
            g0, g1 = first + c0 * per_column, first + c1 * per_column
            # One pass, unless a single column holds more frames than a block.
            for f0 in range(g0, g1, _BLOCK_FRAMES):
                if should_stop is not None and should_stop():
                    return None
                f1 = min(f0 + _BLOCK_FRAMES, g1)
                frames = _frame_power(signal, f0, f1, hop, window, n_fft, n_samples)
                if f1 - f0 == g1 - g0:
                    power[c0:c1] = frames.reshape(c1 - c0, per_column, -1).max(axis=1)
                else:
                    np.maximum(power[c0], frames.max(axis=0), out=power[c0])
    db = np.maximum(np.float32(10.0) * np.log10(power + np.float32(POWER_FLOOR)), LINEAR_DB_FLOOR)
    return LinearSpectrogram(
        db=db,
        start_s=(first * hop - hop / 2) / rate,
        seconds_per_column=per_column * hop / rate,
        true_rate_hz=rate,
        n_fft=n_fft,
        frames_per_column=per_column,
        duration_s=info.duration_s,
    )


def _frame_power(
    signal: ModelRateSignal, f0: int, f1: int, hop: int, window: int, n_fft: int, n_samples: int
) -> FloatArray:
    """Power spectra [f1 - f0, n_fft // 2 + 1] of frames ``[f0, f1)`` (zeros beyond the file)."""
    lo = f0 * hop - window // 2
    hi = (f1 - 1) * hop + window // 2
    samples = np.zeros(hi - lo, np.float32)
    read_lo, read_hi = max(0, lo), min(n_samples, hi)
    if read_hi > read_lo:
        samples[read_lo - lo : read_hi - lo] = signal.read_true_rate(read_lo, read_hi)
    frames = np.lib.stride_tricks.sliding_window_view(samples, window)[::hop]
    # The windowed frames go straight into the zero-padded FFT input (no padded copy).
    padded = np.zeros((f1 - f0, n_fft), np.float32)
    np.multiply(frames, _hann(window), out=padded[:, :window])
    # scipy's FFT, imported here (the window's process never needs it): in float32 it takes
    # half numpy's time, and this is most of the view's wait. One worker: the other core is the
    # event loop's.
    import scipy.fft

    spectrum = scipy.fft.rfft(padded, axis=-1, overwrite_x=True)
    del padded
    power: FloatArray = np.square(spectrum.real)
    power += np.square(spectrum.imag)
    return power
