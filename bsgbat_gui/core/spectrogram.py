"""The model card's mel spectrogram, computed for any range of frames.

``librosa.feature.melspectrogram(y, sr=384000, n_fft=1024, hop_length=768, n_mels=128,
fmin=9000, fmax=150000)`` centres frames (``center=True``) on a signal zero-padded by
``n_fft // 2`` at both ends. Frame ``t`` therefore covers samples
``[t * hop - n_fft/2, t * hop + n_fft/2)`` of the signal, zeros outside it, and a signal of ``n``
samples has ``1 + n // hop`` frames. Computing frames ``[f0, f1)`` from just those samples gives
the card's numbers for any block, so long recordings never need to be in memory at once.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.audio import ModelRateSignal
from bsgbat_gui.core.model_card import (
    FMAX_HZ,
    FMIN_HZ,
    HOP_LENGTH,
    LOG_OFFSET,
    MODEL_SAMPLE_RATE_HZ,
    N_FFT,
    N_MELS,
)

FloatArray = npt.NDArray[np.float32]


def frame_count(n_samples: int) -> int:
    """Frames librosa's centred STFT gives a signal of ``n_samples`` (``1 + n // hop``)."""
    return 1 + n_samples // HOP_LENGTH


@lru_cache(maxsize=1)
def mel_filterbank() -> FloatArray:
    """The card's mel filter bank, [128, 513] float32 (librosa: Slaney scale and norm)."""
    import librosa

    return librosa.filters.mel(
        sr=MODEL_SAMPLE_RATE_HZ, n_fft=N_FFT, n_mels=N_MELS, fmin=FMIN_HZ, fmax=FMAX_HZ
    ).astype(np.float32)


@lru_cache(maxsize=1)
def mel_band_centres_hz() -> npt.NDArray[np.float64]:
    """Centre frequency of each of the 128 mel bins in Hz (the card's ``mel128_freq9k_150k``)."""
    import librosa

    return np.asarray(
        librosa.mel_frequencies(n_mels=N_MELS + 2, fmin=FMIN_HZ, fmax=FMAX_HZ)[1:-1],
        dtype=np.float64,
    )


@lru_cache(maxsize=1)
def mel_band_edges_hz() -> npt.NDArray[np.float64]:
    """The 129 edges between mel bins (midway between centres on the mel scale), in Hz."""
    import librosa

    mels = librosa.hz_to_mel(np.array([FMIN_HZ, FMAX_HZ]))
    edges_mel = np.linspace(mels[0], mels[1], N_MELS + 2)
    centres_mel = edges_mel[1:-1]
    mids = (centres_mel[:-1] + centres_mel[1:]) / 2
    bounds = np.concatenate(
        [
            [centres_mel[0] - (mids[0] - centres_mel[0])],
            mids,
            [centres_mel[-1] + (centres_mel[-1] - mids[-1])],
        ]
    )
    return np.asarray(librosa.mel_to_hz(bounds), dtype=np.float64)


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
    import librosa

    stft = librosa.stft(
        padded_samples, n_fft=N_FFT, hop_length=HOP_LENGTH, center=False, window="hann"
    )
    power = np.abs(stft) ** 2  # librosa's _spectrogram with power=2
    # The same contraction librosa.feature.melspectrogram uses, transposed to [frames, mels].
    mel = np.einsum("ft,mf->tm", power, mel_filterbank(), optimize=True)
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
