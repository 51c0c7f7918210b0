"""Block-wise resampling and log-mel frames equal the card's whole-file librosa calls."""

from __future__ import annotations

import itertools

import librosa
import numpy as np
import pytest
from audio_factory import chirp_train, write_wav

from bsgbat_gui.core.audio import resample
from bsgbat_gui.core.audio.recording import ModelRateSignal, probe_recording
from bsgbat_gui.core.audio.spectrogram import frame_count, log_mel_frames


@pytest.mark.parametrize("rate_in", [250_000, 300_000, 144_000, 500_000, 441_000])
def test_block_resampling_equals_whole_file_resampy(rate_in: int) -> None:
    x = chirp_train(rate_in, 0.7, seed=rate_in).astype(np.float32)
    whole = librosa.resample(x, orig_sr=rate_in, target_sr=384_000, res_type="kaiser_fast")
    n_out = resample.resampled_length(len(x), input_rate_hz=rate_in, output_rate_hz=384_000)
    assert n_out == len(whole)
    rng = np.random.default_rng(1)
    cuts = np.unique(np.concatenate([[0, n_out], rng.integers(0, n_out, 12)]))
    pieces = []
    for start, stop in itertools.pairwise(cuts):
        kw = {
            "n_input": len(x),
            "input_rate_hz": rate_in,
            "output_rate_hz": 384_000,
            "filter_name": "kaiser_fast",
        }
        in_start, in_stop = resample.input_span_for_output(int(start), int(stop), **kw)
        pieces.append(
            resample.resample_span(
                x[in_start:in_stop],
                input_offset=in_start,
                out_start=int(start),
                out_stop=int(stop),
                **kw,
            )
        )
    blockwise = np.concatenate(pieces)
    # Same times, same filter taps, same summation order: identical, not merely close.
    np.testing.assert_array_equal(blockwise, whole)


@pytest.mark.parametrize(("rate", "channels"), [(384_000, 1), (250_000, 2), (300_000, 1)])
def test_log_mel_frames_equal_whole_file_melspectrogram(tmp_path, rate: int, channels: int) -> None:
    mono = chirp_train(rate, 1.3, seed=3)
    samples = np.stack([mono, mono[::-1] * 0.5], axis=1) if channels == 2 else mono
    path = write_wav(tmp_path / "a.wav", samples, rate)

    y, sr = librosa.load(path, sr=384_000, mono=True, res_type="kaiser_fast")
    reference = np.log10(
        librosa.feature.melspectrogram(
            y=y, sr=sr, n_fft=1024, hop_length=768, n_mels=128, fmin=9000, fmax=150000
        ).T
        + 1e-6
    )
    info = probe_recording(path)
    with ModelRateSignal(info) as signal:
        assert signal.n_samples == len(y)
        n = frame_count(signal.n_samples)
        assert n == len(reference)
        # Arbitrary block boundaries, including the first and last frames (edge padding).
        cuts = [0, 1, 97, 300, 301, n - 2, n]
        blocks = [log_mel_frames(signal, a, b) for a, b in itertools.pairwise(cuts)]
    ours = np.concatenate(blocks)
    assert np.abs(ours - reference).max() <= 1e-4


def test_frames_past_the_end_are_silence(tmp_path) -> None:
    path = write_wav(tmp_path / "short.wav", chirp_train(384_000, 0.3), 384_000)
    info = probe_recording(path)
    with ModelRateSignal(info) as signal:
        n = frame_count(signal.n_samples)
        frames = log_mel_frames(signal, n - 2, n + 5)
    assert np.all(frames[2:] == np.float32(np.log10(1e-6)))
    assert np.any(frames[:2] != np.float32(np.log10(1e-6)))
