"""Synthetic analysis results shaped like a real long recording (for GUI latency measurements).

The probabilities are not a classifier's: each label's logit is a slow random walk shared by
the six "models" plus per-model noise, scaled so that tracks cross 0.3–0.7 often and a
threshold change reshapes many events, as on a busy survey night.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bsgbat_gui.core.analysis.analyse import RecordingAnalysis, windows_for
from bsgbat_gui.core.audio.recording import RecordingInfo
from bsgbat_gui.core.audio.spectrogram import DisplaySpectrogram
from bsgbat_gui.core.model_card import MODEL_SAMPLE_RATE_HZ, N_MELS
from bsgbat_gui.core.species import SPECIES

if TYPE_CHECKING:
    from pathlib import Path

N_MODELS = 6


def long_recording_info(path: Path, minutes: float) -> RecordingInfo:
    """The description of an ``minutes``-long 384 kHz mono WAV at ``path`` (not read)."""
    return RecordingInfo(
        path=path,
        header_rate_hz=MODEL_SAMPLE_RATE_HZ,
        channels=1,
        header_frames=round(minutes * 60 * MODEL_SAMPLE_RATE_HZ),
        format="WAV",
        subtype="PCM_16",
        time_expansion=1.0,
        time_expansion_source="none",
    )


def synthetic_analysis(info: RecordingInfo, *, seed: int = 0) -> RecordingAnalysis:
    """Per-model logits for every window of ``info`` (7,200 windows for 60 minutes)."""
    rng = np.random.default_rng(seed)
    windows = windows_for(info)
    labels = tuple(s.scientific_name for s in SPECIES)
    n_segments = len(windows)
    # A slowly varying level per label (AR(1), ~6 s memory) around a per-label mean.
    from scipy.signal import lfilter

    noise = rng.normal(0.0, 0.7, (n_segments, len(labels)))
    level = rng.uniform(-2.5, 0.5, len(labels))
    centred = lfilter([1.0], [1.0, -0.92], noise, axis=0) + level
    logits = centred[None] + rng.normal(0.0, 0.4, (N_MODELS, n_segments, len(labels)))
    return RecordingAnalysis(
        info=info,
        windows=tuple(windows),
        per_model_logits=logits.astype(np.float32),
        labels=labels,
        model_names=tuple(f"synthetic_r{i + 1}" for i in range(N_MODELS)),
    )


def synthetic_display_spectrogram(
    duration_s: float, *, max_columns: int = 30_000, seed: int = 0
) -> DisplaySpectrogram:
    """A reduced dB image of the size the window holds for a recording of ``duration_s``."""
    frames = int(duration_s * MODEL_SAMPLE_RATE_HZ / 768) + 1
    per_column = max(1, -(-frames // max_columns))
    columns = -(-frames // per_column)
    rng = np.random.default_rng(seed)
    db = rng.normal(-45.0, 6.0, (columns, N_MELS)).astype(np.float32)
    return DisplaySpectrogram(db=db, frames_per_column=per_column, duration_s=duration_s)
