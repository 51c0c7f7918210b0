"""The survey report's window side on the shared real recordings (band-energy test models): the
figures say which recordings cannot be placed relative to the sun and why, a folder's position
is given in the window, a verification sample is drawn and reviewed from the keyboard, and the
report written from the window and by the command carry the same sample and site."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from cli_runner import run_cli
from PySide6.QtCore import Qt
from real_recordings import real_recording_paths
from test_review_in_the_window import open_analysed, press

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.real_recordings


def test_figures_sample_and_report_of_the_shared_recordings(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    recordings = real_recording_paths()
    if not recordings:
        pytest.skip("the shared recordings are not available")
    night = tmp_path / "night"  # links: the store is written here, never beside the originals
    night.mkdir()
    for path in recordings:
        (night / path.name).symlink_to(path)
    window = open_analysed(qtbot, make_window, night, model_set_dir, failed_ok=True)
    assert len(window.recordings.rows) == len(recordings)
    window.thresholds.set_all(0.3)
    window.refresh_detections()

    window.survey_figures.open()
    figures = window.survey_figures.dialog
    qtbot.waitUntil(lambda: not figures.is_computing)
    before = figures.activity
    assert before.placed_passes == 0  # no shared recording carries a GUANO position
    assert "no timestamp" in figures.note.text()
    assert "no position" in figures.note.text()
    figures.position_edit.setText("51.5, -0.12")
    figures.set_position_button.click()
    qtbot.waitUntil(lambda: not figures.is_computing)
    after = figures.activity
    # Placed now: the passes of the recordings with a timestamp and its UTC offset.
    assert after.placed_passes > 0
    assert after.placed_passes + after.unplaced_passes == before.unplaced_passes
    assert "no position" not in figures.note.text()
    figures.close()

    window.sample_reviewer.open()
    dialog = window.sample_reviewer.dialog
    dialog.per_stratum.setValue(1)
    dialog.seed.setValue(3)
    dialog.draw_button.click()
    sample = window.session.sample
    assert sample is not None
    panel = window.detections_panel
    assert panel.model.rowCount() == len(sample.keys)
    window.activateWindow()  # back from the dialogs: the keys go to the window again
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.waitUntil(lambda: window.review_actions.target() is not None)
    press(qtbot, window, Qt.Key.Key_A)  # as a reviewer types, focus where the app puts it
    assert panel.model.rowCount() == len(sample.keys) - 1

    out = tmp_path / "window-report.html"
    window.report_exporter.write(out, survey_title="night")
    qtbot.waitUntil(lambda: "Survey report written" in window.status_label.text(), timeout=60_000)
    store = window.session.store.path
    window.close()
    by_command = tmp_path / "command-report.html"
    rc, _out, err = run_cli(["report", str(store), "--out", str(by_command)])
    assert rc == 0, err
    for html in (out.read_text(encoding="utf-8"), by_command.read_text(encoding="utf-8")):
        assert (
            f"{len(sample.keys)} detections sampled (1 per species × probability bin, seed 3"
            in html
        )
        assert "1 decided so far" in html
        assert "51.50000" in html  # the position given in the window
        assert "<td>given</td>" in html
