"""The first minute: cached results shown without a helper process, quitting at once, and the
demo telling the truth about what it shows."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from test_main_window import all_finished, make_folder

from bsgbat_gui.core.compute.process import ComputeProcess
from bsgbat_gui.core.session.recordings import STATUS_DONE

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_cached_analyses_are_shown_without_any_helper_job(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reopened folder's results are a SQLite read in the window's own process: the analysis
    helper gets no job (on a busy computer it used to keep them "queued" for half a minute)."""
    folder = tmp_path / "night"
    make_folder(folder, n=3)
    first = make_window(paths=[folder], models_dir=model_set_dir)
    qtbot.waitUntil(lambda: all_finished(first), timeout=120_000)
    first.close()

    jobs: list[object] = []
    real_iterate = ComputeProcess.iterate

    def watched_iterate(self, job, *args, **kwargs):
        if self.name == "analysis":
            jobs.append(job)
        return real_iterate(self, job, *args, **kwargs)

    monkeypatch.setattr(ComputeProcess, "iterate", watched_iterate)
    again = make_window(paths=[folder], models_dir=model_set_dir)
    qtbot.waitUntil(lambda: all_finished(again), timeout=30_000)
    assert all(r.status == STATUS_DONE and r.from_cache for r in again.recordings.rows)
    qtbot.waitUntil(lambda: again.track_view.analysis is not None, timeout=10_000)
    assert jobs == []  # not one analysis job: no model, no helper


def test_quitting_during_start_up_takes_under_a_second(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    make_folder(tmp_path / "night", n=2, seconds=20.0)
    window = make_window(paths=[tmp_path / "night"], models_dir=model_set_dir)
    assert not window.analysis.is_ready  # the helpers are still starting (loading models)
    children = [window.analysis.process._process, window.spectrogram_loader.process._process]
    started = time.perf_counter()
    window.close()
    assert time.perf_counter() - started < 1.0
    assert not any(child.is_alive() for child in children)


def test_the_window_needs_no_compiler(tmp_path: Path) -> None:
    """Nothing the window or its spectrogram helper runs imports numba (librosa's and
    resampy's kernels compiled for 13 s on a first start); the card's numbers are kept by
    core/dsp (tests/core/audio/test_dsp.py)."""
    import subprocess

    script = (
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from pathlib import Path\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from bsgbat_gui.gui.main_window import MainWindow\n"
        "from bsgbat_gui.core.compute.jobs import warm_up, load_spectrogram\n"
        "from bsgbat_gui.core.resources import resource_path, DEMO_RECORDING\n"
        "warm_up()\n"
        "load_spectrogram(resource_path(DEMO_RECORDING))\n"
        "print(sorted(m for m in ('numba', 'librosa', 'resampy', 'onnxruntime') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
