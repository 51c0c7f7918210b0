"""Synthetic bat-like recordings for benchmarks: FM sweeps in faint noise, written as WAV.

Short triggered files (a survey night's typical content) and one long continuous file, which is
written block by block so that a 60-minute 384 kHz file (2.8 GB) never sits in memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bsgbat_gui.core.model_card import MODEL_SAMPLE_RATE_HZ

if TYPE_CHECKING:
    from pathlib import Path

BLOCK_S = 10.0


def bat_calls(rate_hz: int, seconds: float, *, seed: int = 0, start_s: float = 0.0) -> np.ndarray:
    """FM calls (70 → 40 kHz, 5 ms, every 90 ms) in faint noise, float32 in -1..1."""
    rng = np.random.default_rng(seed)
    n = round(rate_hz * seconds)
    x = (rng.standard_normal(n) * 0.002).astype(np.float32)
    call_s, interval_s = 0.005, 0.09
    n_call = int(call_s * rate_hz)
    tc = np.arange(n_call) / rate_hz
    f0, f1 = min(70_000.0, rate_hz * 0.45), min(40_000.0, rate_hz * 0.4)
    call = (0.4 * np.sin(2 * np.pi * (f0 * tc + (f1 - f0) * tc**2 / (2 * call_s)))
            * np.hanning(n_call)).astype(np.float32)  # fmt: skip
    first = (-start_s) % interval_s
    for t in np.arange(first, seconds - call_s, interval_s):
        i = int(t * rate_hz)
        x[i : i + n_call] += call
    return x


def write_short_recordings(folder: Path, count: int = 24, seconds: float = 3.0) -> list[Path]:
    """``count`` triggered-style files; one in three at 250 kHz (so resampling is measured)."""
    import soundfile

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        rate = 250_000 if i % 3 == 2 else MODEL_SAMPLE_RATE_HZ
        path = folder / f"night_{i:03d}.wav"
        soundfile.write(str(path), bat_calls(rate, seconds, seed=i), rate, subtype="PCM_16")
        paths.append(path)
    return paths


def write_long_recording(path: Path, minutes: float) -> Path:
    """One continuous 384 kHz recording of ``minutes``, written in 10 s blocks."""
    import soundfile

    total = round(minutes * 60 * MODEL_SAMPLE_RATE_HZ)
    block = round(BLOCK_S * MODEL_SAMPLE_RATE_HZ)
    with soundfile.SoundFile(
        str(path), "w", samplerate=MODEL_SAMPLE_RATE_HZ, channels=1, subtype="PCM_16"
    ) as f:
        for k, start in enumerate(range(0, total, block)):
            n = min(block, total - start)
            f.write(bat_calls(MODEL_SAMPLE_RATE_HZ, n / MODEL_SAMPLE_RATE_HZ, seed=k,
                              start_s=start / MODEL_SAMPLE_RATE_HZ))  # fmt: skip
    return path
