"""The model card's signal processing in plain numpy: the periodic Hann window, the STFT power,
the Slaney mel filter bank and resampy's ``kaiser_fast`` resampling loop.

Why not librosa and resampy themselves: both compile numba kernels when first used — librosa's
at import, ~13 s on a two-core laptop the first time (then cached), resampy's in every new
process (~0.4 s, never cached). A first start spent that with a black window and "Loading…".
These functions do the same arithmetic in the same order (float32 frames times a float64
window, float64 FFTs stored as complex64; resampy's float32 accumulator rounded at every tap),
so their results equal the libraries' — ``tests/core/audio/test_dsp.py`` checks it bit for bit, and
the card's reference code (librosa itself) stays the yardstick of the pipeline tests. resampy
is still where the filter comes from: its ``kaiser_fast`` table is read from the installed
package's data file, without importing the package (which would compile its kernel).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
Float64Array = npt.NDArray[np.float64]

# -- windows and the STFT -----------------------------------------------------------------------


@lru_cache(maxsize=4)
def hann_periodic(n: int) -> Float64Array:
    """``scipy.signal.get_window("hann", n, fftbins=True)``: scipy's general cosine window of
    n + 1 points, the last one dropped, computed the way scipy does.
    """
    fac = np.linspace(-np.pi, np.pi, n + 1)
    w = np.zeros(n + 1)
    for k, a in enumerate((0.5, 0.5)):
        w += a * np.cos(k * fac)
    w = w[:-1]
    w.setflags(write=False)
    return w


def stft_power(samples: FloatArray, n_fft: int, hop_length: int) -> FloatArray:
    """``np.abs(librosa.stft(samples, n_fft, hop_length, center=False, window="hann")) ** 2``,
    transposed to ``[n_frames, 1 + n_fft // 2]`` float32.
    """
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if len(samples) < n_fft:
        return np.zeros((0, 1 + n_fft // 2), np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(samples, n_fft)[::hop_length]
    spectrum = np.fft.rfft(frames * hann_periodic(n_fft), axis=-1).astype(np.complex64)
    return np.abs(spectrum) ** 2


# -- the mel scale (Slaney, as librosa's default) ----------------------------------------------

_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(frequencies: npt.ArrayLike) -> Float64Array:
    """As librosa's ``hz_to_mel(htk=False)``: linear below 1 kHz, logarithmic above."""
    f = np.asarray(frequencies, dtype=np.float64)
    mels = f / _F_SP
    log_t = f >= _MIN_LOG_HZ
    mels = np.where(log_t, _MIN_LOG_MEL + np.log(np.where(log_t, f, 1.0) / _MIN_LOG_HZ) / _LOGSTEP,
                    mels)  # fmt: skip
    return np.asarray(mels, dtype=np.float64)


def mel_to_hz(mels: npt.ArrayLike) -> Float64Array:
    """As librosa's ``mel_to_hz(htk=False)``."""
    m = np.asarray(mels, dtype=np.float64)
    freqs = _F_SP * m
    log_t = m >= _MIN_LOG_MEL
    return np.where(log_t, _MIN_LOG_HZ * np.exp(_LOGSTEP * (m - _MIN_LOG_MEL)), freqs)


def mel_frequencies(n_mels: int, fmin: float, fmax: float) -> Float64Array:
    """As librosa's ``mel_frequencies(n_mels, fmin=, fmax=)``: band edges evenly spaced in mel."""
    return mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels))


def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> FloatArray:
    """As librosa's ``filters.mel(sr=, n_fft=, n_mels=, fmin=, fmax=)`` (Slaney scale and norm),
    ``[n_mels, 1 + n_fft // 2]`` float32, computed as librosa does.
    """
    weights = np.zeros((n_mels, 1 + n_fft // 2), dtype=np.float32)
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mel_f = mel_frequencies(n_mels + 2, fmin, fmax)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, np.newaxis]
    return weights


# -- resampy's kaiser_fast, as its numba loop computes it ----------------------------------------


def resampy_filter(name: str) -> tuple[Float64Array, int]:
    """As resampy's pre-computed filter ``name`` (its right wing and precision), read from the
    installed package's data without importing it.
    """
    spec = importlib.util.find_spec("resampy")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("resampy is not installed (its filter data is needed)")
    data = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{name}.npz"
    with np.load(data) as table:
        return np.asarray(table["half_window"], dtype=np.float64), int(table["precision"])


_RESAMPLE_CHUNK = 32768  # outputs per pass: the working arrays stay in the CPU's caches


def resample_loop(
    x: FloatArray,
    t_out: Float64Array,
    interp_win: Float64Array,
    interp_delta: Float64Array,
    num_table: int,
    scale: float,
) -> FloatArray:
    """As resampy's ``_resample_loop`` for every output time in ``t_out``.

    resampy adds tap by tap into a float32 output (each sum rounded to float32 as it goes);
    this does the same, tap by tap over a chunk of outputs at once, so every output sees the
    same roundings in the same order. Taps a filter wing does not reach (at the signal's edges,
    and the last tap of some phases) add nothing.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.zeros(len(t_out), dtype=np.float32)
    if len(t_out) == 0 or len(x) == 0:
        return y
    for start in range(0, len(t_out), _RESAMPLE_CHUNK):
        stop = min(start + _RESAMPLE_CHUNK, len(t_out))
        y[start:stop] = _resample_chunk(
            x, t_out[start:stop], interp_win, interp_delta, num_table, scale
        )
    return y


def _resample_chunk(
    x: FloatArray,
    t_out: Float64Array,
    interp_win: Float64Array,
    interp_delta: Float64Array,
    num_table: int,
    scale: float,
) -> FloatArray:
    index_step = int(scale * num_table)
    nwin = len(interp_win)
    n = t_out.astype(np.int64)  # int() of a non-negative time: truncation
    frac = scale * (t_out - n)
    acc = np.zeros(len(t_out), dtype=np.float32)
    for right in (False, True):
        if right:
            frac = scale - frac
        index_frac = frac * num_table
        offset = index_frac.astype(np.int64)
        eta = index_frac - offset
        reach = (nwin - offset) // index_step
        count = np.minimum(len(x) - n - 1, reach) if right else np.minimum(n + 1, reach)
        every = int(count.min())  # taps every output of the chunk has: no masking needed
        for i in range(int(count.max())):
            tap = offset + i * index_step
            sample = n + (i + 1) if right else n - i
            if i < every:
                weight = interp_win[tap] + eta * interp_delta[tap]
                acc = (acc + weight * x[sample]).astype(np.float32)
                continue
            live = i < count
            tap = np.where(live, tap, 0)
            weight = interp_win[tap] + eta * interp_delta[tap]
            added = (acc + weight * x[np.where(live, sample, 0)]).astype(np.float32)
            acc = np.where(live, added, acc)
    return acc
