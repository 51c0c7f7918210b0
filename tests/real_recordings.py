"""The real bat recordings beside the project (../shared/data/recordings); never copied into it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent

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


def real_recording(name_start: str) -> Path:
    """A real recording by the start of its name; skips the test when the folder is absent."""
    for path in real_recording_paths():
        if path.name.startswith(name_start):
            return path
    pytest.skip(f"real recording {name_start}… not available at {RECORDINGS_DIR}")
    raise AssertionError  # unreachable; for type checkers
