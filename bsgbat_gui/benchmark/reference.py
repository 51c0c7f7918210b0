"""The model card's usage snippet, as the card writes it: the yardstick of the benchmarks and the
tests (``tests/core/analysis/test_pipeline_vs_reference.py``), the one copy of it in the project.

``wav_to_segments`` and the ensemble step are the card's code. Two additions, neither changing
what it computes: the sessions are created once by the caller and passed in (the card's script
makes them once too), so that timing many files measures the pipeline, not session creation;
and ``true_rate_hz`` lets a time-expanded file be read at its true rate (the card assumes files
are at their true rate). Nothing in the application uses this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import librosa
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


def wav_to_segments(wavfile, ntime=512, nhop=250, nfreq=128, *, true_rate_hz=None):
    if true_rate_hz is None:
        y, sr = librosa.load(wavfile, sr=384000, mono=True, res_type="kaiser_fast")
    else:
        # A time-expanded file: the samples are at true_rate_hz, whatever the header says.
        y, _ = librosa.load(wavfile, sr=None, mono=True)
        y = librosa.resample(y, orig_sr=true_rate_hz, target_sr=384000, res_type="kaiser_fast")
        sr = 384000
    S = librosa.feature.melspectrogram(
        y=y, sr=sr, n_fft=1024, hop_length=768,
        n_mels=nfreq, fmin=9000, fmax=150000,
    ).T  # fmt: skip
    segs = []
    for start in range(0, max(len(S) - ntime, 0) + 1, nhop):
        seg = np.log10(S[start : start + ntime] + 1e-6)
        seg = (seg - seg.mean()) / seg.std()
        seg = np.clip(seg - np.median(seg, axis=0), 0.0, 6.0)
        segs.append(seg.astype(np.float32))
    return np.stack(segs)  # [n, 512, 128]


def reference_sessions(model_paths: Sequence[Path]) -> list[Any]:
    import onnxruntime as ort

    return [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for p in model_paths]


def ensemble_probabilities(segments: np.ndarray, sessions: Sequence[Any]) -> np.ndarray:
    """The card's ensemble step: the mean of the models' logits, then the sigmoid."""
    x = segments[:, None, :, :]  # [n, 1, 512, 128]
    logits = np.mean([s.run(["logits"], {"spectrogram": x})[0] for s in sessions], axis=0)
    return 1.0 / (1.0 + np.exp(-logits))


def reference_probabilities(wavfile: Path, sessions: Sequence[Any]) -> np.ndarray:
    """The card's whole pipeline for one file: ``[n_segments, 22]`` probabilities."""
    return ensemble_probabilities(wav_to_segments(str(wavfile)), sessions)
