"""The model card's mel spectrogram, computed for any range of frames.

``librosa.feature.melspectrogram(y, sr=384000, n_fft=1024, hop_length=768, n_mels=128,
fmin=9000, fmax=150000)`` centres frames (``center=True``) on a signal zero-padded by
``n_fft // 2`` at both ends. Frame ``t`` therefore covers samples
``[t * hop - n_fft/2, t * hop + n_fft/2)`` of the signal, zeros outside it, and a signal of ``n``
samples has ``1 + n // hop`` frames. Computing frames ``[f0, f1)`` from just those samples gives
the card's numbers for any block, so long recordings never need to be in memory at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.audio import dsp
from bsgbat_gui.core.model_card import (
    FMAX_HZ,
    FMIN_HZ,
    HOP_LENGTH,
    LOG_OFFSET,
    MODEL_SAMPLE_RATE_HZ,
    N_FFT,
    N_MELS,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from bsgbat_gui.core.audio.recording import ModelRateSignal

FloatArray = npt.NDArray[np.float32]


def frame_count(n_samples: int) -> int:
    """Frames librosa's centred STFT gives a signal of ``n_samples`` (``1 + n // hop``)."""
    return 1 + n_samples // HOP_LENGTH


@lru_cache(maxsize=1)
def mel_filterbank() -> FloatArray:
    """The card's mel filter bank, [128, 513] float32 (librosa's: Slaney scale and norm,
    computed by :mod:`bsgbat_gui.core.audio.dsp` without librosa's numba start-up).
    """
    bank = dsp.mel_filterbank(MODEL_SAMPLE_RATE_HZ, N_FFT, N_MELS, FMIN_HZ, FMAX_HZ)
    bank.setflags(write=False)
    return bank


@lru_cache(maxsize=1)
def mel_band_centres_hz() -> npt.NDArray[np.float64]:
    """Centre frequency of each of the 128 mel bins in Hz (the card's ``mel128_freq9k_150k``)."""
    return dsp.mel_frequencies(N_MELS + 2, FMIN_HZ, FMAX_HZ)[1:-1]


def mel_power_from_samples(padded_samples: FloatArray) -> FloatArray:
    """Mel power of every full frame of an already padded sample block.

    Parameters
    ----------
    padded_samples
        float32 samples whose first frame starts at index 0 (``center=False`` framing).

    Returns
    -------
    [n_frames, 128] float32 mel power, ``n_frames = 1 + (len - n_fft) // hop``.
    """
    # librosa.stft(center=False, window="hann") and its power=2, as [frames, frequencies].
    power = dsp.stft_power(padded_samples, N_FFT, HOP_LENGTH)
    # The same contraction librosa.feature.melspectrogram uses, transposed to [frames, mels].
    mel = np.einsum("tf,mf->tm", power, mel_filterbank(), optimize=True)
    return np.ascontiguousarray(mel, dtype=np.float32)


def log_mel_frames(signal: ModelRateSignal, first_frame: int, stop_frame: int) -> FloatArray:
    """``log10(mel power + 1e-6)`` of frames ``[first_frame, stop_frame)``, [n, 128] float32.

    Frames at or past the signal's last frame are zero mel power (log value -6): the "padded"
    rule for recordings shorter than one model window.
    """
    n_total = frame_count(signal.n_samples)
    out = np.full((max(0, stop_frame - first_frame), N_MELS), np.log10(LOG_OFFSET), np.float32)
    real_stop = min(stop_frame, n_total)
    if real_stop <= first_frame:
        return out
    half = N_FFT // 2
    samples = signal.read(first_frame * HOP_LENGTH - half, (real_stop - 1) * HOP_LENGTH + half)
    mel = mel_power_from_samples(samples)
    out[: real_stop - first_frame] = np.log10(mel + np.float32(LOG_OFFSET))
    return out


# --- what the window shows -----------------------------------------------------------------------

DB_FLOOR = 10.0 * np.log10(LOG_OFFSET)  # -60 dB: zero mel power (digital silence, padding)


@dataclass(frozen=True)
class DisplaySpectrogram:
    """The model's mel spectrogram in dB, ready to draw.

    ``db[c, m]`` is ``10 * log10(mel power + 1e-6)`` — ten times the very values the model's input
    is normalised from — for column ``c`` and mel bin ``m``. Long recordings are reduced to at most
    ``max_columns`` columns by taking the maximum over ``frames_per_column`` frames, so short calls
    stay visible when zoomed out.
    """

    db: FloatArray  # [n_columns, 128]
    frames_per_column: int
    duration_s: float  # the whole recording's
    first_frame: int = 0  # where column 0 starts, for a span of the recording

    @property
    def seconds_per_column(self) -> float:
        """Real seconds one image column covers."""
        return self.frames_per_column * HOP_LENGTH / MODEL_SAMPLE_RATE_HZ

    @property
    def start_s(self) -> float:
        """Where the first column starts, in real seconds."""
        return self.first_frame * HOP_LENGTH / MODEL_SAMPLE_RATE_HZ

    @property
    def end_s(self) -> float:
        """Where the last column ends, in real seconds."""
        return float(self.start_s + self.db.shape[0] * self.seconds_per_column)

    def auto_levels(self) -> tuple[float, float]:
        """Colour levels (low, high) in dB that ignore digital-zero gaps.

        Cells at the -60 dB floor (exact zeros in the file, padding) would drag a percentile-based
        low level down and wash the calls out; they are left out of the statistics.
        """
        values = self.db[self.db > DB_FLOOR + 0.01]
        if values.size == 0:
            return DB_FLOOR, DB_FLOOR + 1.0
        low, high = np.percentile(values, [20.0, 99.8])
        return float(low), float(max(high, low + 1.0))


def display_spectrogram(
    signal: ModelRateSignal,
    *,
    max_columns: int = 30_000,
    span_frames: tuple[int, int] | None = None,
    block_frames: int = 16_384,
    should_stop: Callable[[], bool] | None = None,
) -> DisplaySpectrogram | None:
    """Compute the dB display spectrogram of a recording (or of ``span_frames``), block by block.

    Returns ``None`` when ``should_stop()`` turns true between blocks.
    """
    n_total = frame_count(signal.n_samples)
    span_start, span_stop = span_frames if span_frames is not None else (0, n_total)
    span_start = min(max(0, span_start), n_total)
    span_stop = min(max(span_start, span_stop), n_total)
    n_frames = span_stop - span_start
    per_column = max(1, -(-n_frames // max_columns))
    n_columns = -(-n_frames // per_column)
    out = np.empty((n_columns, N_MELS), np.float32)
    # Blocks are whole columns, so max-pooling never straddles two blocks.
    step = max(per_column, (block_frames // per_column) * per_column)
    for first in range(0, n_frames, step):
        if should_stop is not None and should_stop():
            return None
        stop = min(first + step, n_frames)
        block = log_mel_frames(signal, span_start + first, span_start + stop) * np.float32(10.0)
        n = stop - first
        cols = -(-n // per_column)
        if per_column > 1:
            padded = np.full((cols * per_column, N_MELS), DB_FLOOR, np.float32)
            padded[:n] = block
            block = padded.reshape(cols, per_column, N_MELS).max(axis=1)
        out[first // per_column : first // per_column + cols] = block
    return DisplaySpectrogram(
        db=out,
        frames_per_column=per_column,
        duration_s=signal.info.duration_s,
        first_frame=span_start,
    )
