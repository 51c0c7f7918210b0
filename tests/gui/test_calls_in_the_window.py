"""The shown recording's calls in the window: measured in the background, kept in the review
store (shown again without measuring), listed for the selected detection with its summary,
marked on the spectrogram in either frequency view, and measured anew with new settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
from audio_factory import chirp_train, write_wav
from PySide6.QtCore import Qt
from test_review_in_the_window import open_analysed, press

from bsgbat_gui.core.audio.recording import probe_recording
from bsgbat_gui.core.calls.detect import measure_calls
from bsgbat_gui.core.calls.settings import CallSettings
from bsgbat_gui.core.calls.summary import summarise_calls
from bsgbat_gui.core.review.store import ReviewStore

if TYPE_CHECKING:
    from pathlib import Path

SLOW_MS = 60_000


@pytest.fixture
def night(tmp_path: Path) -> Path:
    folder = tmp_path / "night"
    folder.mkdir()
    for i in range(2):
        write_wav(folder / f"rec{i}.wav", chirp_train(384_000, 3.0, seed=50 + i), 384_000)
    return folder


def measured_rows(window) -> int:
    return window.calls_panel.model.rowCount()


def shown_calls(qtbot, window):
    """Wait until the shown recording's calls are held, and return them."""
    info = probe_recording(window.current_path)
    qtbot.waitUntil(lambda: window.session.calls_of(info) is not None, timeout=SLOW_MS)
    return info, window.session.calls_of(info)


def test_calls_are_measured_listed_marked_and_kept(
    qtbot, make_window, night: Path, model_set_dir: Path
) -> None:
    window = open_analysed(qtbot, make_window, night, model_set_dir)
    window.recordings_panel.select_row(0)
    info, calls = shown_calls(qtbot, window)
    expected = measure_calls(info)  # the same numbers as measured here, directly
    assert len(calls) == len(expected) > 0
    np.testing.assert_array_equal(calls.fme_khz, expected.fme_khz)
    # With no detection selected: the whole recording's calls, all marked.
    qtbot.waitUntil(lambda: measured_rows(window) == len(calls))
    assert "The whole recording" in window.calls_panel.summary_label.text()
    assert window.spectrogram_view.call_marks.count == len(calls)
    # Kept in the store, with the file's identity and the survey's settings.
    with ReviewStore.open(night / "bsgbat-review.sqlite", exclusive=False) as store:
        kept = store.cached_calls(info, CallSettings())
        assert kept is not None
        np.testing.assert_array_equal(kept.start_s, calls.start_s)

    # A detection selected: its calls and its summary, also in the status bar.
    window.thresholds.set_all(0.2)
    press(qtbot, window, Qt.Key.Key_Right)
    selected = window.detections_panel.selected
    assert selected is not None
    assert selected.path == info.path
    summary = summarise_calls(calls, selected.start_s, selected.end_s)
    assert measured_rows(window) == summary.n_calls
    assert f"{summary.n_calls} call" in window.calls_panel.summary_label.text()
    assert f"{summary.n_calls} call" in window.target_label.text()
    if summary.n_calls:
        first = window.calls_panel.model.index(0, 0)
        assert float(first.data()) == pytest.approx(
            float(calls.start_s[calls.start_s >= selected.start_s][0]), abs=5e-4
        )


def test_reopened_calls_come_from_the_store_without_measuring(
    qtbot, make_window, night: Path, model_set_dir: Path
) -> None:
    first = open_analysed(qtbot, make_window, night, model_set_dir)
    first.recordings_panel.select_row(0)
    _, calls = shown_calls(qtbot, first)
    first.close()
    again = open_analysed(qtbot, make_window, night, model_set_dir)
    again.recordings_panel.select_row(0)
    qtbot.waitUntil(lambda: measured_rows(again) == len(calls), timeout=SLOW_MS)
    assert again.calls.measurer.process is None  # no compute process was started for them


def test_marks_follow_the_frequency_axis(
    qtbot, make_window, night: Path, model_set_dir: Path
) -> None:
    window = open_analysed(qtbot, make_window, night, model_set_dir)
    window.recordings_panel.select_row(0)
    _, calls = shown_calls(qtbot, window)
    qtbot.waitUntil(lambda: window.spectrogram_view.call_marks.count == len(calls))
    marks = window.spectrogram_view.call_marks
    _, mel_y = marks.dots.getData()
    assert (mel_y <= 128).all()  # mel bin positions
    press(qtbot, window, Qt.Key.Key_F)
    assert window.spectrogram_view.linear_axis
    _, linear_y = marks.dots.getData()
    np.testing.assert_allclose(linear_y, calls.fme_khz)  # true kHz on the linear axis
    press(qtbot, window, Qt.Key.Key_M)  # hidden, still measured
    assert marks.count == 0
    assert window.session.calls_of(probe_recording(window.current_path)) is not None


def test_new_settings_are_kept_and_the_calls_measured_again(
    qtbot, make_window, night: Path, model_set_dir: Path
) -> None:
    window = open_analysed(qtbot, make_window, night, model_set_dir)
    window.recordings_panel.select_row(0)
    info, before = shown_calls(qtbot, window)
    window.calls.edit_settings()
    dialog = window.calls._dialog
    assert dialog is not None
    dialog.boxes["fmax_khz"].setValue(5.0)  # below the band's bottom: refused, said
    assert not dialog.ok_button.isEnabled()
    assert "fmax_khz" in dialog.problem.text()
    dialog.boxes["fmax_khz"].setValue(150.0)
    dialog.boxes["threshold_db"].setValue(30.0)
    assert dialog.ok_button.isEnabled()
    dialog.accept()
    wanted = CallSettings(threshold_db=30.0)
    assert window.session.call_settings == wanted
    qtbot.waitUntil(lambda: window.session.calls_of(info) is not None, timeout=SLOW_MS)
    after = window.session.calls_of(info)
    assert len(after) == len(measure_calls(info, wanted)) <= len(before)
    with ReviewStore.open(night / "bsgbat-review.sqlite", exclusive=False) as store:
        assert store.call_settings() == wanted
