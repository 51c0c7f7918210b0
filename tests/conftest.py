"""Shared test configuration: offscreen Qt, real recordings (skipped when absent), model sets."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

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


# What a Dask nanny writes into its own process's environment before it spawns a worker, and
# never takes back (distributed.nanny.pre-spawn-environ): after a LocalCluster test, every helper
# process a later test starts would inherit one BLAS thread and compute other last bits.
_NANNY_ENVIRONMENT = ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                      "OPENBLAS_NUM_THREADS")  # fmt: skip


@pytest.fixture(autouse=True)
def _environment_left_as_found() -> Iterator[None]:
    """Each test leaves the thread variables of the environment as it found them."""
    before = {name: os.environ.get(name) for name in _NANNY_ENVIRONMENT}
    yield
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
