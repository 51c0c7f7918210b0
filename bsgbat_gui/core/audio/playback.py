"""Making ultrasound audible: time expansion, heterodyning, band limits (Qt-free).

* **Time expansion** (÷ factor, as field detectors do): the samples recorded at the true rate
  played at rate ÷ factor — slower *and* lower: 45 kHz is heard at 4.5 kHz with factor 10, and a
  5 ms call lasts 50 ms. No time-stretching (which would keep the pitch ultrasonic).
* **Heterodyne**: real time, the signal mixed with a local oscillator and low-passed, like a
  heterodyne detector: a call at f is heard at |f − f_lo|, and what is far from f_lo is silent.
* **Real**: the recording as it is (inaudible ultrasound; for sharing the raw call).

Every mode can be band-limited first (the visible frequency range). The output is float32 in
-1..1 at :attr:`Playable.rate_hz`; :func:`to_pcm16` makes the bytes an audio sink plays.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.audio.recording import RecordingInfo, read_real_span

FloatArray = npt.NDArray[np.float32]

PLAYBACK_MODES = ("expand", "heterodyne", "real")
EXPANSION_FACTORS = (5, 10, 20)
DEFAULT_FACTOR = 10
DEFAULT_LO_HZ = 45_000.0
HETERODYNE_OUTPUT_HZ = 48_000  # a rate every sound card plays
HETERODYNE_BANDWIDTH_HZ = 8_000.0  # heard range either side of f_lo, as on a detector
FILTER_ORDER = 8
_HEADROOM = 0.9  # peak level after normalising


@dataclass(frozen=True)
class Playable:
    """Audio ready to play or save: float32 samples at ``rate_hz``; ``speed`` = real seconds per
    played second (1/factor for time expansion) for moving a cursor in real time.
    """

    samples: FloatArray
    rate_hz: int
    speed: float

    @property
    def duration_s(self) -> float:
        """How long it plays, in seconds of listening time."""
        return len(self.samples) / self.rate_hz


def band_limit(
    x: FloatArray, rate_hz: float, low_hz: float | None, high_hz: float | None
) -> FloatArray:
    """Zero-phase band-pass (or high/low-pass when one edge is open or out of range)."""
    nyquist = rate_hz / 2
    low = low_hz if low_hz is not None and low_hz > 0 else None
    high = high_hz if high_hz is not None and high_hz < nyquist * 0.999 else None
    if len(x) < 3 * (2 * FILTER_ORDER + 1) or (low is None and high is None):
        return x
    sps = _signal()
    if low is not None and high is not None:
        if high <= low:
            return np.zeros_like(x)
        sos = sps.butter(FILTER_ORDER, [low, high], btype="bandpass", fs=rate_hz, output="sos")
    elif low is not None:
        sos = sps.butter(FILTER_ORDER, low, btype="highpass", fs=rate_hz, output="sos")
    else:
        sos = sps.butter(FILTER_ORDER, high, btype="lowpass", fs=rate_hz, output="sos")
    filtered: np.ndarray = sps.sosfiltfilt(sos, x)
    return filtered.astype(np.float32)


def _normalised(
    x: np.ndarray, reference: np.ndarray | None = None, gain: float = 1.0
) -> FloatArray:
    """Scaled so that ``reference`` (default ``x``) peaks just below full scale: faint calls
    become audible, loud ones never clip. Scaling by the *input's* peak keeps what a filter
    removed quiet (normalising the output would raise the residue to full scale).
    """
    ref = x if reference is None else reference
    peak = float(np.max(np.abs(ref))) if len(ref) else 0.0
    if peak <= 0 or not np.isfinite(peak):
        return np.zeros(len(x), np.float32)
    return np.clip(x * (gain * _HEADROOM / peak), -1.0, 1.0).astype(np.float32)


def time_expanded(
    x: FloatArray,
    rate_hz: int,
    factor: float = DEFAULT_FACTOR,
    *,
    low_hz: float | None = None,
    high_hz: float | None = None,
) -> Playable:
    """The samples unchanged, to be played at ``rate_hz / factor``."""
    if factor <= 0:
        raise ValueError("the expansion factor must be positive")
    y = band_limit(np.asarray(x, np.float32), rate_hz, low_hz, high_hz)
    return Playable(_normalised(y), round(rate_hz / factor), 1.0 / factor)


def heterodyned(
    x: FloatArray,
    rate_hz: int,
    lo_hz: float = DEFAULT_LO_HZ,
    *,
    low_hz: float | None = None,
    high_hz: float | None = None,
    bandwidth_hz: float = HETERODYNE_BANDWIDTH_HZ,
    output_rate_hz: int = HETERODYNE_OUTPUT_HZ,
) -> Playable:
    """Mix with a local oscillator at ``lo_hz`` and keep |f − lo| < ``bandwidth_hz``, in real
    time at ``output_rate_hz``.
    """
    y = band_limit(np.asarray(x, np.float32), rate_hz, low_hz, high_hz)
    t = np.arange(len(y)) / rate_hz
    mixed = y * np.cos(2 * np.pi * lo_hz * t)  # f -> |f - lo| and f + lo
    # Keep the difference tone only; the sum (f + lo, ultrasonic) and far tones go.
    mixed = band_limit(mixed.astype(np.float32), rate_hz, None, bandwidth_hz)
    out = _resampled(mixed, rate_hz, output_rate_hz)
    # Mixing halves a tone's amplitude (cos a cos b = (cos(a - b) + cos(a + b)) / 2): gain 2.
    return Playable(_normalised(np.asarray(out), reference=y, gain=2.0), output_rate_hz, 1.0)


def real_speed(
    x: FloatArray, rate_hz: int, *, low_hz: float | None = None, high_hz: float | None = None
) -> Playable:
    """The span at its true rate, unchanged (for listening equipment that can play it)."""
    y = band_limit(np.asarray(x, np.float32), rate_hz, low_hz, high_hz)
    return Playable(_normalised(y), int(rate_hz), 1.0)


def make_playable(
    x: FloatArray,
    rate_hz: int,
    mode: str = "expand",
    *,
    factor: float = DEFAULT_FACTOR,
    lo_hz: float = DEFAULT_LO_HZ,
    low_hz: float | None = None,
    high_hz: float | None = None,
) -> Playable:
    """The span prepared for listening as ``settings`` say (time expansion, heterodyne, real)."""
    if mode == "expand":
        return time_expanded(x, rate_hz, factor, low_hz=low_hz, high_hz=high_hz)
    if mode == "heterodyne":
        return heterodyned(x, rate_hz, lo_hz, low_hz=low_hz, high_hz=high_hz)
    if mode == "real":
        return real_speed(x, rate_hz, low_hz=low_hz, high_hz=high_hz)
    raise ValueError(f"unknown playback mode {mode!r}; one of {', '.join(PLAYBACK_MODES)}")


def to_pcm16(samples: FloatArray) -> bytes:
    """Little-endian signed 16-bit mono PCM."""
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def wav_bytes(playable: Playable) -> bytes:
    """A 16-bit mono PCM WAV file of ``playable``."""
    data = to_pcm16(playable.samples)
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    fmt = struct.pack("<HHIIHH", 1, 1, playable.rate_hz, playable.rate_hz * 2, 2, 16)
    return (
        header
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )


DEVICE_RATE_HZ = 48_000  # what the window hands the sound card (every card plays it)
MAX_PLAY_S = 20.0  # real seconds per playback (200 s heard at x10)


@dataclass(frozen=True)
class PlaybackSettings:
    """How to listen: mode, expansion factor, heterodyne frequency, band limits."""

    mode: str = "expand"
    factor: float = DEFAULT_FACTOR
    lo_hz: float = DEFAULT_LO_HZ
    low_hz: float | None = None  # band limit, real Hz (None: open)
    high_hz: float | None = None

    def describe(self) -> str:
        """The settings in a few words (toolbar and status bar)."""
        if self.mode == "expand":
            return f"time expansion x{self.factor:g}"
        if self.mode == "heterodyne":
            return f"heterodyne {self.lo_hz / 1000:g} kHz"
        return "real speed"


def at_rate(playable: Playable, rate_hz: int) -> Playable:
    """The same sound at another sample rate (what it sounds like does not change)."""
    y = _resampled(playable.samples, playable.rate_hz, rate_hz)
    return Playable(np.clip(y, -1, 1).astype(np.float32), rate_hz, playable.speed)


def _resampled(x: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Polyphase resampling by the exact rational ratio (unchanged when the rates agree)."""
    if from_hz == to_hz or not len(x):
        return x
    g = np.gcd(int(to_hz), int(from_hz))
    return np.asarray(_signal().resample_poly(x, to_hz // g, from_hz // g))


def _signal() -> Any:
    """``scipy.signal``, imported when first played: it pulls in scipy.stats, 0.7 s that every
    window start paid at module level.
    """
    from scipy import signal

    return signal


def prepare_playback(
    info: RecordingInfo,
    start_s: float,
    end_s: float,
    settings: PlaybackSettings,
    *,
    device_rate_hz: int = DEVICE_RATE_HZ,
) -> Playable:
    """Read ``[start_s, end_s)`` (real seconds, at most :data:`MAX_PLAY_S`) of a recording and
    make it audible at ``device_rate_hz``. Raises ``RecordingError``.
    """
    end_s = min(end_s, start_s + MAX_PLAY_S, info.duration_s)
    samples = read_real_span(info, start_s, end_s)
    playable = make_playable(
        samples, info.true_rate_hz, settings.mode, factor=settings.factor,
        lo_hz=settings.lo_hz, low_hz=settings.low_hz, high_hz=settings.high_hz,
    )  # fmt: skip
    return at_rate(playable, device_rate_hz)
