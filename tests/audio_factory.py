"""Synthetic recordings for tests: bat-like FM calls, WAVs with GUANO / wamd chunks."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pathlib import Path


def chirp_train(
    rate_hz: int,
    duration_s: float,
    *,
    f_start_hz: float = 70_000,
    f_end_hz: float = 40_000,
    call_s: float = 0.005,
    interval_s: float = 0.09,
    amplitude: float = 0.5,
    seed: int = 0,
) -> np.ndarray:
    """Bat-like FM calls (downward chirps) in faint noise, float64 in -1..1."""
    rng = np.random.default_rng(seed)
    n = round(rate_hz * duration_s)
    x = rng.standard_normal(n) * 0.002
    n_call = int(call_s * rate_hz)
    tc = np.arange(n_call) / rate_hz
    nyquist = rate_hz / 2
    f0, f1 = min(f_start_hz, nyquist * 0.95), min(f_end_hz, nyquist * 0.9)
    phase = 2 * np.pi * (f0 * tc + (f1 - f0) * tc**2 / (2 * call_s))
    call = amplitude * np.sin(phase) * np.hanning(n_call)
    for start_s in np.arange(0.01, duration_s - call_s, interval_s):
        i = int(start_s * rate_hz)
        x[i : i + n_call] += call
    return np.clip(x, -1, 1)


def riff_chunk(chunk_id: bytes, body: bytes) -> bytes:
    pad = b"\x00" if len(body) % 2 else b""
    return chunk_id + struct.pack("<I", len(body)) + body + pad


def write_wav(
    path: Path,
    samples: np.ndarray,
    rate_hz: int,
    *,
    subtype: str = "PCM_16",
    extra_chunks: bytes = b"",
) -> Path:
    """Write a WAV with soundfile, then append raw RIFF chunks (GUANO, wamd…) and fix the size."""
    import soundfile

    soundfile.write(str(path), samples, rate_hz, subtype=subtype, format="WAV")
    if extra_chunks:
        data = bytearray(path.read_bytes())
        data += extra_chunks
        data[4:8] = struct.pack("<I", len(data) - 8)
        path.write_bytes(bytes(data))
    return path


def guano_chunk(fields: dict[str, str]) -> bytes:
    text = "GUANO|Version:1.0\n" + "".join(f"{k}:{v}\n" for k, v in fields.items())
    body = text.encode("utf-8")
    return riff_chunk(b"guan", body)


def wamd_chunk(time_expansion: int | None = None, timestamp: str | None = None) -> bytes:
    body = struct.pack("<HI", 0, 2) + struct.pack("<H", 1)
    if time_expansion is not None:
        body += struct.pack("<HI", 0x0F, 2) + struct.pack("<H", time_expansion)
    if timestamp is not None:
        raw = timestamp.encode()
        body += struct.pack("<HI", 0x05, len(raw)) + raw
    return riff_chunk(b"wamd", body)
