"""Shared test configuration: offscreen Qt, real recordings (skipped when absent), model sets."""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

# Before anything imports Qt: no screen in tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TESTS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS_DIR))  # model_factory, reference_pipeline

from model_factory import write_model_set  # noqa: E402

# The real recordings live beside the project (../shared/data/recordings), never inside it.
RECORDINGS_DIR = Path(
    os.environ.get(
        "BSGBAT_TEST_RECORDINGS", TESTS_DIR.parent.parent / "shared" / "data" / "recordings"
    )
)


def real_recording_paths() -> list[Path]:
    if not RECORDINGS_DIR.is_dir():
        return []
    return sorted(p for p in RECORDINGS_DIR.iterdir() if p.suffix.lower() in (".wav", ".flac"))


@pytest.fixture(scope="session")
def recordings_dir() -> Path:
    if not real_recording_paths():
        pytest.skip(f"real recordings not available at {RECORDINGS_DIR}")
    return RECORDINGS_DIR


def real_recording(name_start: str) -> Path:
    """A real recording by the start of its name; skips the test when the folder is absent."""
    for path in real_recording_paths():
        if path.name.startswith(name_start):
            return path
    pytest.skip(f"real recording {name_start}… not available at {RECORDINGS_DIR}")
    raise AssertionError  # unreachable; for type checkers


@pytest.fixture(scope="session")
def model_set_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six band-energy test models (test devices, not classifiers) with labels and SHA256SUMS."""
    return write_model_set(tmp_path_factory.mktemp("models"))


@pytest.fixture(autouse=True)
def _no_user_models(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Tests never see a developer's own models or environment."""
    monkeypatch.delenv("BSGBAT_MODELS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))


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
    t = np.arange(n) / rate_hz
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
    del t
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
