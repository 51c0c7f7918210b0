"""What a decision applies to: the selected detection of the recording shown, never another's;
what it will act on is outlined, highlighted, drawn and named; the keys work whichever panel has
focus; Right/Left stay in a recording before moving on; U, the review-state filter, and the
warning when "no bats" leaves detections unreviewed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from audio_factory import chirp_train, write_wav
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication
from test_review_in_the_window import open_analysed, press

from bsgbat_gui.core.review.decisions import STATUS_CONFIRMED
from bsgbat_gui.core.review.navigation import STATE_PARTLY, STATE_REVIEWED, STATE_UNREVIEWED
from bsgbat_gui.core.review.store import ReviewStore
from bsgbat_gui.gui.recordings_panel import COL_REVIEWED, COLUMNS

if TYPE_CHECKING:
    from pathlib import Path


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
    assert selected is not None
    assert selected.path == first
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
    assert search.text() == "r"
    assert len(window.review.decisions) == 1
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
    assert states[order[0]] == STATE_PARTLY
    assert states[order[1]] == STATE_UNREVIEWED
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


def test_relabel_offers_the_european_checklist_groups_sources_and_free_text(
    qtbot, reviewing
) -> None:
    from bsgbat_gui.gui.detections_panel import COL_STATUS
    from bsgbat_gui.gui.review import SpeciesPicker

    window = reviewing
    panel = window.detections_panel

    def relabel_as(typed: str) -> str:
        press(qtbot, window, Qt.Key.Key_L)
        picker = window.review_actions.dialog
        assert isinstance(picker, SpeciesPicker)
        qtbot.keyClicks(picker.filter, typed)
        chosen = picker.chosen()
        qtbot.keyClick(picker.filter, Qt.Key.Key_Return)
        return chosen

    press(qtbot, window, Qt.Key.Key_Right)
    assert relabel_as("myonat") == "Myotis nattereri"  # not a model species
    decided = window.review.decisions[-1]
    assert decided.final_species == "Myotis nattereri"
    row = panel.row_of_event(panel.selected_event_index())  # moved on: find the decided one
    texts = {
        panel.model.data(panel.model.index(r, COL_STATUS)) for r in range(panel.model.rowCount())
    }
    assert "→ Myonat" in texts
    assert row is not None
    press(qtbot, window, Qt.Key.Key_Right)
    assert relabel_as("bush-cricket") == "bush-cricket (Orthoptera)"
    press(qtbot, window, Qt.Key.Key_Right)
    assert relabel_as("Myotis sp") == "Myotis sp."
    # Text that matches nothing is kept as written, with Enter (it once closed silently).
    press(qtbot, window, Qt.Key.Key_Right)
    assert relabel_as("odd squeak 18 kHz") == "odd squeak 18 kHz"
    finals = [d.final_species for d in window.review.decisions]
    assert finals[-3:] == ["bush-cricket (Orthoptera)", "Myotis sp.", "odd squeak 18 kHz"]
    texts = {
        panel.model.data(panel.model.index(r, COL_STATUS)) for r in range(panel.model.rowCount())
    }
    assert "→ \u201codd squeak 18 kHz\u201d (free text)" in texts


def test_a_survey_species_list_marks_and_can_exclude_the_models_other_species(
    qtbot, reviewing, make_window, model_set_dir: Path
) -> None:
    from bsgbat_gui.core.review.survey import recording_rows, select_rows
    from bsgbat_gui.gui.survey_species_dialog import SurveySpeciesDialog

    window = reviewing
    detected = {e.label for e in events_of(window, window.current_path)}
    detected |= {window.detections_panel.model.event_at(r).label
                 for r in range(window.detections_panel.model.rowCount())}  # fmt: skip
    assert len(detected) >= 2
    keep = sorted(detected)[0]
    window.survey_species.edit()
    dialog = window._dialog
    assert isinstance(dialog, SurveySpeciesDialog)
    qtbot.keyClicks(dialog.filter, "nattereri")  # a species the models do not know
    shown = [dialog.list.item(i) for i in range(dialog.list.count())
             if not dialog.list.item(i).isHidden()]  # fmt: skip
    assert [i.data(Qt.ItemDataRole.UserRole) for i in shown] == ["Myotis nattereri"]
    dialog.set_selected((keep, "Myotis nattereri"))
    dialog._accept()
    assert set(window.thresholds.survey_species) == {keep, "Myotis nattereri"}
    outside = sorted(detected - {keep})
    # Marked, not hidden: in the threshold panel and the detections table.
    row = window.threshold_panel.rows[outside[0]]
    assert "not in the survey list" in row.name.text()
    model = window.detections_panel.model
    species_cells = {model.data(model.index(r, 1)) for r in range(model.rowCount())}
    assert any(cell.endswith("⚠") for cell in species_cells)
    n_before = model.rowCount()
    # Excluded in one click: no event of theirs anywhere, the export included.
    window.survey_species.set((keep, "Myotis nattereri"), True)
    assert window.thresholds.excluded >= set(outside)
    assert {model.event_at(r).label for r in range(model.rowCount())} == {keep}
    assert model.rowCount() < n_before
    assert "excluded from detection" in window.threshold_panel.rows[outside[0]].name.text()
    survey = window.survey_for_export()
    assert {r.species_auto for r in select_rows(recording_rows(survey), "detections")} == {keep}
    folder = window.current_path.parent
    window.close()
    # Kept in the review store: back on reopening.
    again = open_analysed(qtbot, make_window, folder, model_set_dir)
    assert set(again.thresholds.survey_species) == {keep, "Myotis nattereri"}
    assert again.thresholds.excluded >= set(outside)


def test_the_layout_gives_the_spectrogram_room_at_1366_by_768(qtbot, reviewing) -> None:
    from PySide6.QtCore import QSize

    window = reviewing
    window.view_state.fit_to_screen(QSize(1366, 768))
    qtbot.wait(100)
    # Standard layout: the review state column is in sight without scrolling.
    table = window.recordings_panel.table
    header = table.horizontalHeader()
    right = header.sectionViewportPosition(COL_REVIEWED) + header.sectionSize(COL_REVIEWED)
    assert right <= table.viewport().width()
    assert window.detections_panel.table.height() >= 4 * 22  # several detections in sight
    # Review layout (F9): the spectrogram and tracks take at least 60 % of the window.
    window.action_table.review_layout_action.trigger()
    qtbot.wait(100)
    view = window.spectrogram_view
    share = view.width() * view.height() / (window.width() * window.height())
    assert share >= 0.6, share
    window.action_table.review_layout_action.trigger()  # and back, as it was
    qtbot.wait(100)
    assert window.threshold_dock.isVisible()
    assert window.recordings_panel.width() > 0


def test_detection_lanes_sit_above_the_spectrogram_not_over_its_top_band(qtbot, reviewing) -> None:
    """The lanes hid 85-150 kHz, where horseshoe and Myotis calls are: they are drawn in a
    strip above the mel bins; the spectrogram's own top band keeps its pixels."""
    import numpy as np

    from bsgbat_gui.core.model_card import N_MELS
    from bsgbat_gui.gui.event_shading import LANES_STRIP_BINS

    window = reviewing
    press(qtbot, window, Qt.Key.Key_Right)
    view = window.spectrogram_view
    shading = view.event_shading
    assert shading.lanes  # this recording's events, one lane per species
    (_, _), (y0, y1) = view.plot.getViewBox().viewRange()
    assert y0 <= 0
    assert y1 >= N_MELS + LANES_STRIP_BINS
    image = view.grab().toImage()
    vb = view.plot.getViewBox()
    colour, starts, ends = shading.lanes[0]
    middle = float(starts[0] + ends[0]) / 2

    def colour_at(y: float) -> tuple[int, int, int]:
        scene = vb.mapViewToScene(QPointF(middle, y))
        pixel = image.pixelColor(int(scene.x()), int(scene.y()))
        return pixel.red(), pixel.green(), pixel.blue()

    lane = (colour.red(), colour.green(), colour.blue())
    assert np.allclose(colour_at(N_MELS + LANES_STRIP_BINS - 1), lane, atol=10)  # the strip
    assert not np.allclose(colour_at(N_MELS - 2), lane, atol=10)  # ~145 kHz: the spectrogram


def test_summary_chart_gives_each_species_its_own_row(qtbot, reviewing) -> None:
    window = reviewing
    window.show_export_panel()
    panel = window.export_panel
    assert panel is not None
    panel._show_summary()
    ticks = panel.chart.getAxis("left")._tickLevels
    codes = [text for _, text in ticks[0]]
    assert len(codes) >= 2
    assert len(set(codes)) == len(codes)
    positions = [position for position, _ in ticks[0]]
    assert positions == [float(i) for i in range(len(codes))]  # one row each: never overlapping
