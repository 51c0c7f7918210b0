"""Thresholds in the window: slider, spin box and track line are one value; events follow it in
the detections table and the spectrogram shading; combine switches without re-analysis."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pytest
from audio_factory import chirp_train, write_wav
from PySide6.QtWidgets import QMessageBox

from bsgbat_gui.core.model_card import BACKGROUND_LABEL
from bsgbat_gui.core.models.ensemble import combine_logits, sigmoid
from bsgbat_gui.core.session.recordings import STATUS_DONE
from bsgbat_gui.gui.track_view import PER_MODEL_BAND, PER_MODEL_TRACKS

if TYPE_CHECKING:
    from pathlib import Path


def loop_event_count(values: np.ndarray, threshold: float) -> int:
    """Runs of consecutive values >= threshold (written independently of the app)."""
    count, inside = 0, False
    for v in values:
        if v >= threshold and not inside:
            count += 1
        inside = bool(v >= threshold)
    return count


@pytest.fixture
def analysed_window(qtbot, make_window, tmp_path: Path, model_set_dir: Path):
    folder = tmp_path / "night"
    folder.mkdir()
    for i in range(2):
        write_wav(folder / f"rec{i}.wav", chirp_train(384_000, 8.0, seed=10 + i), 384_000)
    window = make_window(paths=[folder], models_dir=model_set_dir)
    qtbot.waitUntil(
        lambda: all(r.status == STATUS_DONE for r in window.recordings.rows), timeout=120_000
    )
    qtbot.waitUntil(
        lambda: window.current_path is not None and bool(window.track_view.visible_curves())
    )
    return window


def busiest_species(window) -> tuple[str, np.ndarray]:
    """The drawn species whose track varies most in the shown recording, and its track."""
    row = window.recordings.row_for(window.current_path)
    p = row.analysis.probabilities(window.thresholds.combine)
    labels = row.analysis.labels
    drawn = window.track_view.visible_curves()
    j = max(
        (i for i, x in enumerate(labels) if x in drawn and x != BACKGROUND_LABEL),
        key=lambda i: np.ptp(p[:, i]),
    )
    return labels[j], p[:, j]


def table_rows_for(window, label: str, path: Path) -> int:
    model = window.detections_panel.model
    return sum(
        1
        for r in range(model.rowCount())
        if (e := model.event_at(r)) is not None and e.label == label and e.path == path
    )


def test_slider_moves_the_line_and_updates_table_and_shading(analysed_window) -> None:
    window = analysed_window
    label, track = busiest_species(window)
    threshold = round(float(np.median(track)), 3)
    row = window.threshold_panel.rows[label]
    row.slider.setValue(round(threshold * 1000))
    assert window.thresholds.threshold(label) == pytest.approx(threshold)
    assert row.spin.value() == pytest.approx(threshold)
    line = window.track_view.threshold_lines[label]
    assert line.value() == pytest.approx(threshold)
    expected = loop_event_count(track, threshold)
    assert expected >= 1
    assert table_rows_for(window, label, window.current_path) == expected
    shading = window.spectrogram_view.event_shading
    colour = window.track_view.species_curves[label].opts["pen"].color().name()
    assert sum(len(a) for c, a, _ in shading.lanes if c.name() == colour) == expected

    # Raising it above the track's peak removes this species' events everywhere.
    row.spin.setValue(min(1.0, float(track.max()) + 0.01))
    assert table_rows_for(window, label, window.current_path) == 0
    assert all(c.name() != colour for c, _, _ in shading.lanes)


def test_dragging_the_line_moves_slider_and_spin_box(analysed_window) -> None:
    window = analysed_window
    label, track = busiest_species(window)
    line = window.track_view.threshold_lines[label]
    target = round(float(np.percentile(track, 30)), 3)
    line.setPos(target)  # what a mouse drag does: InfiniteLine.mouseDragEvent -> setPos
    assert window.thresholds.threshold(label) == pytest.approx(target, abs=1e-3)
    row = window.threshold_panel.rows[label]
    assert row.slider.value() == round(target * 1000)
    assert row.spin.value() == pytest.approx(target, abs=1e-3)
    assert table_rows_for(window, label, window.current_path) == loop_event_count(
        track, window.thresholds.threshold(label)
    )


def test_set_all_reset_and_background_never_detected(analysed_window) -> None:
    window = analysed_window
    window.threshold_panel.set_all_spin.setValue(0.0)
    window.threshold_panel.set_all_button.click()
    species = [x for x in window.thresholds.labels if x != BACKGROUND_LABEL]
    assert all(window.thresholds.threshold(x) == 0.0 for x in species)
    assert window.thresholds.threshold(BACKGROUND_LABEL) == 0.5
    window.thresholds.set_threshold(BACKGROUND_LABEL, 0.0)
    # Every species is detected in every segment: one event per species per recording.
    model = window.detections_panel.model
    assert model.rowCount() == len(species) * len(window.recordings.rows)
    assert BACKGROUND_LABEL not in {model.event_at(r).label for r in range(model.rowCount())}
    window.threshold_panel.reset_button.click()
    assert all(window.thresholds.threshold(x) == 0.5 for x in window.thresholds.labels)


def test_combine_switch_recombines_without_reanalysis(analysed_window) -> None:
    window = analysed_window
    row = window.recordings.row_for(window.current_path)
    analysis = row.analysis
    runs_before = window.analysis.run_id
    window.threshold_panel.combine_box.setCurrentText("max")
    assert window.thresholds.combine == "max"
    label = next(iter(window.track_view.visible_curves()))
    j = analysis.labels.index(label)
    _, y = window.track_view.track_data(label)
    expected = sigmoid(combine_logits(analysis.per_model_logits, "max"))[:, j]
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    assert window.recordings.row_for(window.current_path).analysis is analysis
    assert window.analysis.run_id == runs_before


def test_per_model_view_shows_each_checkpoint(analysed_window) -> None:
    window = analysed_window
    label, _ = busiest_species(window)
    window.threshold_panel.set_focus(label)
    window.threshold_panel.per_model_box.setCurrentText(PER_MODEL_TRACKS)
    per_model = window.track_view.per_model_data()
    assert len(per_model) == 6
    analysis = window.recordings.row_for(window.current_path).analysis
    j = analysis.labels.index(label)
    np.testing.assert_allclose(per_model[2], sigmoid(analysis.per_model_logits[2, :, j]))
    window.threshold_panel.per_model_box.setCurrentText(PER_MODEL_BAND)
    assert window.track_view._band.isVisible()
    low, high = window.track_view.band_data()
    assert np.all(high >= low)
    assert np.any(high > low)


def test_hiding_a_species_hides_its_track_and_rows(analysed_window) -> None:
    window = analysed_window
    window.threshold_panel.set_all_spin.setValue(0.0)
    window.threshold_panel.set_all_button.click()
    label, _ = busiest_species(window)
    window.threshold_panel.rows[label].visible_box.setChecked(False)
    assert label not in window.track_view.visible_curves()
    model = window.detections_panel.model
    assert label not in {model.event_at(r).label for r in range(model.rowCount())}
    window.threshold_panel.rows[label].visible_box.setChecked(True)
    assert label in {model.event_at(r).label for r in range(model.rowCount())}


def test_selecting_a_detection_zooms_to_it(qtbot, analysed_window) -> None:
    window = analysed_window
    label, track = busiest_species(window)
    window.thresholds.set_threshold(label, float(np.median(track)))
    panel = window.detections_panel
    panel.current_only_box.setChecked(False)
    other = next(r.path for r in window.recordings.rows if r.path != window.current_path)
    rows = [
        r for r in range(panel.model.rowCount()) if panel.model.event_at(r).path == other
    ] or list(range(panel.model.rowCount()))
    panel.select_row(rows[0])
    event = panel.model.event_at(rows[0])
    assert window.current_path == event.path
    qtbot.waitUntil(lambda: window.spectrogram_view.image.image is not None, timeout=30_000)
    x0, x1 = window.spectrogram_view.visible_range()
    assert x0 <= event.start_s
    assert event.end_s <= x1
    assert x1 - x0 < window.recordings.row_for(event.path).info.duration_s
    assert window.spectrogram_view.event_shading.selected == (event.start_s, event.end_s)


def test_presets_save_and_load_with_unknown_names_reported(
    qtbot, analysed_window, tmp_path: Path
) -> None:
    window = analysed_window
    panel = window.threshold_panel
    label = window.thresholds.labels[3]
    window.thresholds.set_threshold(label, 0.731)
    window.thresholds.set_combine("median")
    from bsgbat_gui.core.analysis.thresholds import save_preset

    saved = tmp_path / "p.json"
    save_preset(saved, window.thresholds.settings(), window.thresholds.labels)
    window.thresholds.reset()
    window.thresholds.set_combine("mean")
    assert panel.apply_preset_file(saved) == []
    assert window.thresholds.threshold(label) == pytest.approx(0.731)
    assert panel.rows[label].spin.value() == pytest.approx(0.731)
    assert panel.combine_box.currentText() == "median"

    document = json.loads(saved.read_text(encoding="utf-8"))
    document["thresholds"]["Myotis nattereri"] = 0.3
    saved.write_text(json.dumps(document), encoding="utf-8")
    problems = panel.apply_preset_file(saved)
    assert problems == ["unknown species 'Myotis nattereri': ignored"]
    qtbot.waitUntil(lambda: bool(panel.findChildren(QMessageBox)))
    box = panel.findChildren(QMessageBox)[0]
    assert "Myotis nattereri" in box.text()
    box.close()


def test_thresholds_are_remembered_between_sessions(
    qtbot, make_window, app_settings, tmp_path: Path
) -> None:
    window = make_window(paths=[])
    label = window.thresholds.labels[0]
    window.thresholds.set_threshold(label, 0.9)
    window.thresholds.set_combine("min")
    window.thresholds.set_visible(BACKGROUND_LABEL, True)
    window.close()
    again = make_window(paths=[])
    assert again.thresholds.threshold(label) == pytest.approx(0.9)
    assert again.thresholds.combine == "min"
    assert again.thresholds.is_visible(BACKGROUND_LABEL)


def reopened(qtbot, make_window, first, model_set_dir: Path):
    """``first``'s folder in a new window, every analysis read from the store (held only as
    probabilities), and the logits ``first`` held, by path."""
    folder = first.current_path.parent
    logits = {r.path: np.array(r.analysis.per_model_logits) for r in first.recordings.rows}
    first.close()
    window = make_window(paths=[folder], models_dir=model_set_dir)
    qtbot.waitUntil(
        lambda: all(r.status == STATUS_DONE for r in window.recordings.rows), timeout=60_000
    )
    return window, logits


def test_a_reopened_survey_recombines_its_stored_analyses_in_the_background(
    qtbot, make_window, analysed_window, model_set_dir: Path
) -> None:
    window, logits = reopened(qtbot, make_window, analysed_window, model_set_dir)
    held = window.session.analyses
    assert window.thresholds.combine == "mean"
    window.threshold_panel.combine_box.setCurrentText("max")
    # Read back from the store (only probabilities were held), in the background.
    assert not held.is_combined_throughout
    qtbot.waitUntil(lambda: held.is_combined_throughout, timeout=30_000)
    qtbot.waitUntil(lambda: "combined by max" in window.status_label.text())
    expected_events = 0
    thresholds = window.thresholds.thresholds_array(held.labels)
    for path, kept in logits.items():
        wanted = sigmoid(combine_logits(kept, "max")).astype(np.float32)
        assert np.array_equal(held.probabilities_of(path), wanted)
        expected_events += sum(
            loop_event_count(wanted[:, j], thresholds[j])
            for j, label in enumerate(held.labels)
            if label != BACKGROUND_LABEL
        )
    detections = window.session.detections
    assert detections is not None
    assert len(detections.events) == expected_events
    shown = window.recordings.row_for(window.current_path).analysis  # logits from the store
    assert np.array_equal(shown.per_model_logits, logits[window.current_path])


def test_a_recombination_whose_stored_analyses_are_gone_says_so_once_and_keeps_working(
    qtbot, make_window, analysed_window, model_set_dir: Path
) -> None:
    import sqlite3

    window, _ = reopened(qtbot, make_window, analysed_window, model_set_dir)
    held = window.session.analyses
    before = held.probabilities_of(window.current_path).copy()
    with sqlite3.connect(window.session.store.path) as conn:  # another program emptied it
        conn.execute("DELETE FROM analyses")
    window.threshold_panel.combine_box.setCurrentText("max")
    qtbot.waitUntil(lambda: "Not every stored analysis" in window.status_label.text())
    assert "reopen the folder" in window.status_label.text()
    assert not held.is_combined_throughout
    # The probabilities held stay as they were (by the previous method), not half replaced,
    # and the window keeps working: a threshold change finds the events again, asking no more.
    assert np.array_equal(held.probabilities_of(window.current_path), before)
    runs = window.analysis_runs
    label = window.thresholds.labels[0]
    window.thresholds.set_threshold(label, 0.42)
    qtbot.wait(200)
    assert not runs.recombiner.is_running


def test_two_quick_combine_changes_end_combined_by_the_last(
    qtbot, make_window, analysed_window, model_set_dir: Path
) -> None:
    window, logits = reopened(qtbot, make_window, analysed_window, model_set_dir)
    held = window.session.analyses
    window.threshold_panel.combine_box.setCurrentText("max")
    window.threshold_panel.combine_box.setCurrentText("median")  # before max is read back
    qtbot.waitUntil(lambda: held.is_combined_throughout, timeout=30_000)
    assert held.combine == "median"
    for path, kept in logits.items():
        wanted = sigmoid(combine_logits(kept, "median")).astype(np.float32)
        assert np.array_equal(held.probabilities_of(path), wanted)
    qtbot.waitUntil(lambda: not window.analysis_runs.recombiner.is_running)
