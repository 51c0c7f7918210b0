"""The model card's usage snippet, as the card writes it, for side-by-side benchmarks.

``wav_to_segments`` and the ensemble step are the card's code; the only change is that the
sessions are created once by the caller and passed in (the card's script makes them once too),
so that timing many files measures the pipeline, not session creation. Nothing in the
application uses this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import librosa
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


def wav_to_segments(wavfile, ntime=512, nhop=250, nfreq=128):
    y, sr = librosa.load(wavfile, sr=384000, mono=True, res_type="kaiser_fast")
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


def reference_probabilities(wavfile: Path, sessions: Sequence[Any]) -> np.ndarray:
    """The card's whole pipeline for one file: ``[n_segments, 22]`` probabilities."""
    segments = wav_to_segments(str(wavfile))
    x = segments[:, None, :, :]  # [n, 1, 512, 128]
    logits = np.mean([s.run(["logits"], {"spectrogram": x})[0] for s in sessions], axis=0)
    return 1.0 / (1.0 + np.exp(-logits))
