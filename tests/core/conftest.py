"""Fixtures shared by the core tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from cli_runner import run_cli

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="session")
def analysed_store(
    recordings_dir: Path, model_set_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """``analyze --project`` over the real recordings (band-energy test models). Tests copy it
    before changing it."""
    store = tmp_path_factory.mktemp("survey") / "review.sqlite"
    rc, _, stderr = run_cli(
        ["analyze", str(recordings_dir), "--models", str(model_set_dir), "--project", str(store),
         "--segments", str(store.with_name("segments.csv"))]
    )  # fmt: skip
    assert rc == 0, stderr
    return store
