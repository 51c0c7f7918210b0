"""What a decision applies to: the selected detection of the recording shown, never another's;
what it will act on is outlined, highlighted, drawn and named; the keys work whichever panel has
focus; Right/Left stay in a recording before moving on; U, the review-state filter, and the
warning when "no bats" leaves detections unreviewed."""

from __future__ import annotations

from pathlib import Path

import pytest
from audio_factory import chirp_train, write_wav
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_review_in_the_window import open_analysed, press

from bsgbat_gui.core.review_navigation import STATE_PARTLY, STATE_REVIEWED, STATE_UNREVIEWED
from bsgbat_gui.core.review_store import STATUS_CONFIRMED, ReviewStore
from bsgbat_gui.gui.recordings_panel import COL_REVIEWED, COLUMNS


def night(folder: Path, n: int = 3) -> Path:
    folder.mkdir()
    for i in range(n):
        write_wav(folder / f"rec{i}.wav", chirp_train(384_000, 6.0, seed=30 + i), 384_000)
    return folder


@pytest.fixture
def reviewing(qtbot, make_window, tmp_path: Path, model_set_dir: Path):
    window = open_analysed(qtbot, make_window, night(tmp_path / "night"), model_set_dir)
    window.thresholds.set_all(0.2)  # several detections in every recording
    window.recordings_panel.select_row(0)
    return window


def events_of(window, path: Path) -> list:
    model = window.detections_panel.model
    events = [model.event_at(r) for r in range(model.rowCount())]
    return sorted((e for e in events if e.path == path), key=lambda e: (e.start_s, e.label))


def test_pgdown_then_a_changes_nothing_in_the_previous_recording(qtbot, reviewing) -> None:
    window = reviewing
    first = window.current_path
    press(qtbot, window, Qt.Key.Key_Right)
    selected = window.detections_panel.selected
    assert selected is not None and selected.path == first
    assert window.spectrogram_view.event_shading.selected == (selected.start_s, selected.end_s)
    assert "A/R/L act on" in window.target_label.text()
    press(qtbot, window, Qt.Key.Key_PageDown)
    assert window.current_path != first
    # The previous recording's detection is no longer selected, outlined or acted on.
    assert window.review_actions.target() is None
    assert window.detections_panel.current_row() < 0
    assert window.spectrogram_view.event_shading.selected is None
    assert "no detection selected" in window.target_label.text()
    press(qtbot, window, Qt.Key.Key_A)
    assert window.review.decisions == []
    assert window.current_path != first  # and it did not jump back
    assert f"No detection selected in {window.current_path.name}" in window.status_label.text()
    with ReviewStore.open(window.review.store.path, exclusive=False) as other:
        assert other.decisions() == []


def test_the_detection_under_review_is_drawn_highlighted_whatever_the_top_n(
    qtbot, reviewing
) -> None:
    window = reviewing
    window.threshold_panel.top_n_box.setValue(1)  # only one species by peak
    press(qtbot, window, Qt.Key.Key_Right)
    target = window.review_actions.target()
    assert target is not None
    # Walk to a detection whose species is not the recording's top one, if there is one.
    track = window.track_view
    for _ in range(40):
        if target.label != next(iter(track.visible_curves()), target.label):
            break
        press(qtbot, window, Qt.Key.Key_Right)
        target = window.review_actions.target()
        assert target is not None
    curves = track.visible_curves()
    assert target.label in curves
    assert curves[target.label].opts["pen"].width() == 4
    assert track.threshold_lines[target.label].label.isVisible()
    others = [c for label, c in curves.items() if label != target.label]
    assert all(c.opts["pen"].width() == 2 for c in others)


def test_review_keys_work_from_a_spin_box_but_not_from_a_text_field(qtbot, reviewing) -> None:
    window = reviewing
    press(qtbot, window, Qt.Key.Key_Right)
    target = window.review_actions.target()
    assert target is not None
    # Focus in a threshold spin box (as after typing a threshold): A decides, Space plays,
    # neither goes into the box.
    spin = window.threshold_panel.rows[target.label].spin
    spin.setFocus()
    QApplication.processEvents()
    value, text = spin.value(), spin.text()
    spin.lineEdit().selectAll()  # as after typing a value
    qtbot.keyClick(spin, Qt.Key.Key_Space)  # once blanked the box it was typed into
    assert (spin.value(), spin.text()) == (value, text)
    qtbot.keyClick(spin, Qt.Key.Key_A)
    assert (spin.value(), spin.text()) == (value, text)
    assert [d.status for d in window.review.decisions] == [STATUS_CONFIRMED]
    # In the recordings' search box letters are text.
    search = window.recordings_panel.species_filter
    search.setFocus()
    qtbot.keyClick(search, Qt.Key.Key_R)
    assert search.text() == "r" and len(window.review.decisions) == 1
    search.clear()
    # Escape gives the focus back to the review.
    qtbot.keyClick(search, Qt.Key.Key_Escape)
    assert QApplication.focusWidget() is window.recordings_panel.table


def test_right_and_left_stay_in_the_recording_then_move_on(qtbot, reviewing) -> None:
    window = reviewing
    order = window.recordings_panel.shown_paths()
    first, second = order[0], order[1]
    mine = events_of(window, first)
    assert len(mine) >= 2
    for expected in mine:
        press(qtbot, window, Qt.Key.Key_Right)
        assert window.detections_panel.selected == expected
    # Past the last detection of the first recording: the second recording's first one.
    press(qtbot, window, Qt.Key.Key_Right)
    assert window.current_path == second
    assert window.detections_panel.selected == events_of(window, second)[0]
    assert f"Next recording: {second.name}" in window.status_label.text()
    # And back: the first recording's last one.
    press(qtbot, window, Qt.Key.Key_Left)
    assert window.current_path == first
    assert window.detections_panel.selected == mine[-1]
    assert "Previous recording" in window.status_label.text()


def test_u_review_state_filter_and_no_bats_warning(qtbot, reviewing) -> None:
    window = reviewing
    order = window.recordings_panel.shown_paths()
    press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_A)  # one of the first recording's detections
    states = {r.path: r.review_state for r in window.recordings.rows}
    assert states[order[0]] == STATE_PARTLY and states[order[1]] == STATE_UNREVIEWED
    # The state shows where the reviewer looks: a column at the front, and the status bar.
    assert COLUMNS.index("Review") == COL_REVIEWED == 1
    assert STATE_PARTLY in window.target_label.text()
    # U: the next recording that needs review, its first undecided detection selected.
    press(qtbot, window, Qt.Key.Key_U)
    assert window.current_path == order[1]
    assert window.review_actions.target() == events_of(window, order[1])[0]
    # Ctrl+R marks it reviewed; the filter shows recordings by review state.
    press(qtbot, window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    panel = window.recordings_panel
    panel.review_filter.setCurrentText(STATE_REVIEWED)
    assert panel.shown_paths() == [order[1]]
    panel.review_filter.setCurrentText(STATE_UNREVIEWED)
    assert panel.shown_paths() == [order[2]]
    panel.review_filter.setCurrentText("all")
    # "No bats" on a recording with unreviewed detections: set, with a warning.
    panel.select_path(order[2])
    press(qtbot, window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert window.review.recording_review(order[2]).no_bats
    assert "still unreviewed" in window.status_label.text()
