"""Shared test configuration: offscreen Qt, real recordings (skipped when absent), model sets."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Before anything imports Qt: no screen in tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TESTS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS_DIR))  # model_factory, audio_factory, bad_inputs, …

from model_factory import write_model_set  # noqa: E402
from real_recordings import RECORDINGS_DIR, real_recording_paths  # noqa: E402


@pytest.fixture(scope="session")
def recordings_dir() -> Path:
    if not real_recording_paths():
        pytest.skip(f"real recordings not available at {RECORDINGS_DIR}")
    return RECORDINGS_DIR


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
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))  # logs
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
