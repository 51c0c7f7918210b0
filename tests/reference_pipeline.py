"""The model card's reference code, kept as the card writes it, for comparison in tests.

``wav_to_segments`` is the card's snippet verbatim (the only additions: the path and the
sample rate it assumes the file has are parameters, so time-expanded files can be compared at
their true rate). Nothing here is imported by the application.
"""

from __future__ import annotations

import librosa
import numpy as np
import onnxruntime as ort


def wav_to_segments(wavfile, ntime=512, nhop=250, nfreq=128, *, true_rate_hz=None):
    if true_rate_hz is None:
        y, sr = librosa.load(wavfile, sr=384000, mono=True, res_type="kaiser_fast")
    else:
        # A time-expanded file: the samples are at true_rate_hz, whatever the header says.
        y, _ = librosa.load(wavfile, sr=None, mono=True)
        y = librosa.resample(y, orig_sr=true_rate_hz, target_sr=384000, res_type="kaiser_fast")
        sr = 384000
    S = librosa.feature.melspectrogram(
        y=y,
        sr=sr,
        n_fft=1024,
        hop_length=768,
        n_mels=nfreq,
        fmin=9000,
        fmax=150000,
    ).T
    segs = []
    for start in range(0, max(len(S) - ntime, 0) + 1, nhop):
        seg = np.log10(S[start : start + ntime] + 1e-6)
        seg = (seg - seg.mean()) / seg.std()
        seg = np.clip(seg - np.median(seg, axis=0), 0.0, 6.0)
        segs.append(seg.astype(np.float32))
    return np.stack(segs)  # [n, 512, 128]


def reference_probabilities(segments, model_paths):
    """The card's ensemble step: mean of the models' logits, then the sigmoid."""
    x = segments[:, None, :, :]
    sessions = [
        ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for p in model_paths
    ]
    logits = np.mean([s.run(["logits"], {"spectrogram": x})[0] for s in sessions], axis=0)
    return 1.0 / (1.0 + np.exp(-logits))
