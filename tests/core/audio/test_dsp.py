"""core/dsp against the libraries the model card's code uses: the same numbers, bit for bit —
window, STFT power, mel filter bank and frequencies, resampy's kaiser_fast loop — on random and
real recordings."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.signal
import soundfile
from real_recordings import real_recording
from resampy.filters import get_filter
from resampy.interpn import _resample_loop_s

from bsgbat_gui.core.audio import dsp

RATES = [(250_000, 384_000), (300_000, 384_000), (144_000, 384_000), (500_000, 384_000),
         (38_400 * 10 + 7, 384_000)]  # fmt: skip


def test_window_stft_and_mel_equal_librosa() -> None:
    for n in (256, 1024):
        assert np.array_equal(dsp.hann_periodic(n), scipy.signal.get_window("hann", n))
    rng = np.random.default_rng(7)
    for length in (1024, 1025, 50_000, 384_000):
        x = (rng.standard_normal(length) * 0.3).astype(np.float32)
        expected = np.abs(librosa.stft(x, n_fft=1024, hop_length=768, center=False)) ** 2
        assert np.array_equal(dsp.stft_power(x, 1024, 768), expected.T)
    bank = librosa.filters.mel(sr=384_000, n_fft=1024, n_mels=128, fmin=9_000, fmax=150_000)
    assert np.array_equal(dsp.mel_filterbank(384_000, 1024, 128, 9_000, 150_000), bank)
    assert np.array_equal(
        dsp.mel_frequencies(130, 9_000, 150_000),
        librosa.mel_frequencies(n_mels=130, fmin=9_000, fmax=150_000),
    )


def _resampy(x: np.ndarray, rate_in: int, rate_out: int) -> tuple[np.ndarray, tuple]:
    win, precision, _ = get_filter("kaiser_fast")
    ratio = rate_out / rate_in
    win = ratio * win if ratio < 1 else win
    delta = np.diff(win, append=win[-1])
    t = np.arange(int(len(x) * ratio)) * (1.0 / ratio)
    y = np.zeros(len(t), np.float32)
    _resample_loop_s(x, t, win, delta, precision, min(1.0, ratio), y)
    return y, (t, win, delta, precision, min(1.0, ratio))


@pytest.mark.parametrize(("rate_in", "rate_out"), RATES)
def test_resample_loop_equals_resampy_bit_for_bit(rate_in: int, rate_out: int) -> None:
    x = (np.random.default_rng(rate_in).standard_normal(rate_in // 3) * 0.2).astype(np.float32)
    expected, (t, win, delta, precision, scale) = _resampy(x, rate_in, rate_out)
    got = dsp.resample_loop(x, t, win, delta, precision, scale)
    assert np.array_equal(got, expected)
    table, table_precision = dsp.resampy_filter("kaiser_fast")
    assert np.array_equal(table, get_filter("kaiser_fast")[0])
    assert table_precision == precision


@pytest.mark.real_recordings
@pytest.mark.parametrize("name", ["Kuhls-pipistrelle", "Audiomoth", "Bechsteins-bat"])
def test_resample_loop_equals_resampy_on_real_recordings(name: str) -> None:
    path = real_recording(name)
    x, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    x = np.ascontiguousarray(x[: rate // 2, 0])  # half a second is plenty
    expected, (t, win, delta, precision, scale) = _resampy(x, rate, 384_000)
    assert np.array_equal(dsp.resample_loop(x, t, win, delta, precision, scale), expected)
