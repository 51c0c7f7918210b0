"""Synthetic calls of known truth: FM sweeps and constant-frequency calls in white noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import soundfile

if TYPE_CHECKING:
    from pathlib import Path

NOISE_RMS = 0.001  # -60 dB re full scale


@dataclass(frozen=True)
class TrueCall:
    start_s: float
    duration_s: float
    f_start_hz: float
    f_end_hz: float
    amplitude: float = 0.1

    @property
    def slope_khz_per_ms(self) -> float:
        return (self.f_end_hz - self.f_start_hz) / 1000 / (self.duration_s * 1000)


def render(calls: list[TrueCall], rate_hz: int, seconds: float, *, seed: int = 0) -> np.ndarray:
    """The calls (linear sweeps, 0.2 ms cosine ramps) added to white noise, float64."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(round(rate_hz * seconds)) * NOISE_RMS
    for call in calls:
        n = round(call.duration_s * rate_hz)
        t = np.arange(n) / rate_hz
        rate = (call.f_end_hz - call.f_start_hz) / call.duration_s
        wave = np.sin(2 * np.pi * (call.f_start_hz * t + rate * t**2 / 2))
        ramp = min(n // 2, round(0.0002 * rate_hz))
        envelope = np.ones(n)
        envelope[:ramp] = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
        envelope[n - ramp :] = envelope[:ramp][::-1]
        i = round(call.start_s * rate_hz)
        x[i : i + n] += call.amplitude * wave * envelope
    return x


def write(path: Path, samples: np.ndarray, rate_hz: int, subtype: str = "PCM_16") -> Path:
    soundfile.write(str(path), samples, rate_hz, subtype=subtype)
    return path
