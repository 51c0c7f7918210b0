"""Bursts of results are coalesced: the survey-wide refresh runs once per burst of analyses,
not once per recording (a fast analysis of thousands of short files must not re-derive the
survey after each one)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from audio_factory import chirp_train, write_wav

from bsgbat_gui.core.session.recordings import STATUS_DONE
from bsgbat_gui.gui.analysis_coordinator import SURVEY_REFRESH_MIN_INTERVAL_MS
from bsgbat_gui.gui.main_window import MainWindow

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_a_burst_of_analyses_refreshes_the_survey_once(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "night"
    folder.mkdir()
    for i in range(6):
        write_wav(folder / f"rec{i}.wav", chirp_train(256_000, 1.0, seed=i), 256_000)
    window = make_window(paths=[folder], models_dir=model_set_dir)
    qtbot.waitUntil(
        lambda: all(r.status == STATUS_DONE for r in window.recordings.rows), timeout=120_000
    )
    analyses = [r.analysis for r in window.recordings.rows]
    assert len(analyses) == 6
    assert all(a is not None for a in analyses)
    qtbot.wait(SURVEY_REFRESH_MIN_INTERVAL_MS + 100)  # the analysis's own refreshes are over

    refreshes: list[int] = []
    real_refresh = MainWindow.refresh_detections

    def counted(self: MainWindow) -> None:
        refreshes.append(len(self.recordings.rows))
        real_refresh(self)

    monkeypatch.setattr(MainWindow, "refresh_detections", counted)
    for analysis in analyses:  # six results in one event-loop pass
        window.analysis_runs.add_analysis(analysis)
    assert refreshes == []  # nothing survey-wide inside the pass
    qtbot.waitUntil(lambda: len(refreshes) == 1, timeout=5_000)
    qtbot.wait(SURVEY_REFRESH_MIN_INTERVAL_MS + 100)
    assert len(refreshes) == 1  # once for the whole burst

    for analysis in analyses[:2]:  # the next burst: one more
        window.analysis_runs.add_analysis(analysis)
    qtbot.waitUntil(lambda: len(refreshes) == 2, timeout=5_000)
    qtbot.wait(SURVEY_REFRESH_MIN_INTERVAL_MS + 100)
    assert len(refreshes) == 2
