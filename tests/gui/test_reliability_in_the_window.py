"""Review → Reliability in the window: a species whose low-probability detections were rejected
gets a higher suggested threshold; applying it is one undoable step. Review → Evaluate against
annotations: the shipped human labels as a table and PR curves."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import numpy as np
import pytest
from audio_factory import chirp_train, write_wav

from bsgbat_gui.core.evaluation.annotations import read_annotations
from bsgbat_gui.core.evaluation.metrics import evaluate
from bsgbat_gui.core.evaluation.reliability import precision_at
from bsgbat_gui.core.review.decisions import STATUS_CONFIRMED, STATUS_REJECTED
from bsgbat_gui.core.session.recordings import STATUS_DONE
from bsgbat_gui.gui.evaluation_dialog import EvaluationDialog

if TYPE_CHECKING:
    from pathlib import Path


def test_rejected_low_probability_detections_raise_the_suggested_threshold(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    folder = tmp_path / "night"
    folder.mkdir()
    for i in range(4):
        write_wav(folder / f"rec{i}.wav", chirp_train(384_000, 8.0, seed=50 + i), 384_000)
    window = make_window(paths=[folder], models_dir=model_set_dir)
    qtbot.waitUntil(
        lambda: all(r.status == STATUS_DONE for r in window.recordings.rows), timeout=180_000
    )
    # The species and threshold giving the most separate events (runs of windows above it).
    labels = window.session.labels
    best = max(
        (window.session.analyses.event_count(label, t), label, t)
        for label in labels[:-1]
        for t in np.round(np.arange(0.05, 0.95, 0.01), 2)
    )
    _, species, start_threshold = best
    window.thresholds.set_threshold(species, float(start_threshold))
    start_threshold = window.thresholds.threshold(species)
    qtbot.waitUntil(lambda: window.detections_panel.model.rowCount() > 0, timeout=10_000)
    model = window.detections_panel.model
    events = model.detections.events
    rows = [r for r in range(model.rowCount()) if model.event_at(r).label == species]
    assert len(rows) >= 12, f"only {len(rows)} events of {species}"
    probability = {r: float(events.max_prob[int(model.rows[r])]) for r in rows}
    median = float(np.median(list(probability.values())))
    for row in rows:
        event = model.event_at(row)
        status = STATUS_REJECTED if probability[row] < median else STATUS_CONFIRMED
        window.detections_panel.select_row(model.row_of(event))
        window.review_actions.decide(status)

    window.action_table.reliability_action.trigger()
    panel = window.reliability_panel
    assert window.reliability_dock.isVisible()
    qtbot.waitUntil(lambda: any(r.species == species for r in panel.model.rows), timeout=10_000)
    row = next(r for r in panel.model.rows if r.species == species)
    assert row.reviewed.n == len(rows)
    assert row.current.value < 0.7  # half of them were rejected
    suggested = row.advice.threshold
    assert suggested is not None
    assert suggested > start_threshold
    assert suggested >= median - 1e-3  # no rejected one needs to stay for precision 0.9
    assert precision_at(row.reviewed, suggested).value >= 0.9
    assert row.effect is not None
    assert row.effect.rejected_removed >= len(rows) // 2 - 1
    assert row.events_suggested is not None
    assert row.events_suggested < row.events_now

    panel.table.selectRow(panel.model.rows.index(row))
    # The whole probability range is in sight (0.75-1.0 was clipped on the right).
    window.resize(1366, 768)
    qtbot.wait(50)
    (x0, x1), _ = panel.plot.getViewBox().viewRange()
    assert x0 <= 0.0
    assert x1 >= 1.0
    assert panel.plot.getViewBox().sceneBoundingRect().right() <= panel.plot.width()
    assert panel.plot_note.text()  # the reason, in words, under the plot
    panel.apply_suggestion()
    assert window.thresholds.threshold(species) == suggested
    window.review.undo_stack.undo()
    assert window.thresholds.threshold(species) == start_threshold
    window.review.undo_stack.redo()
    assert window.thresholds.threshold(species) == suggested
    # The advice follows the thresholds: at the new threshold the precision is the target's.
    qtbot.waitUntil(
        lambda: (
            next(r for r in panel.model.rows if r.species == species).current.threshold == suggested
        ),
        timeout=10_000,
    )
    assert next(r for r in panel.model.rows if r.species == species).current.value >= 0.9


LABELLED = "Car370293-2016-Pass1-Z3-US-16611-0_20160629_234204_701"


@pytest.mark.real_recordings
def test_evaluation_against_the_human_labels_in_the_window(
    qtbot, make_window, recordings_dir: Path, model_set_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "labelled"
    folder.mkdir()
    (folder / f"{LABELLED}.wav").symlink_to(recordings_dir / f"{LABELLED}.wav")
    with (recordings_dir / "labels" / f"{LABELLED}.calls.csv").open(newline="") as f:
        calls = list(csv.DictReader(f))
    annotations = tmp_path / "annotations.csv"
    annotations.write_text(
        "recording,class,start_time,end_time\n"
        + "".join(
            f"{LABELLED},{c['species']},{c['start_s_file_header']},{c['end_s_file_header']}\n"
            for c in calls
        )
    )
    window = make_window(paths=[folder], models_dir=model_set_dir)
    qtbot.waitUntil(
        lambda: all(r.status == STATUS_DONE for r in window.recordings.rows), timeout=120_000
    )
    window.evaluate_annotations([annotations])
    dialog = window._dialog
    assert isinstance(dialog, EvaluationDialog)
    assert dialog.isVisible()
    qtbot.addWidget(dialog)
    shown = {m.species: m for m in dialog.model.rows}
    plecotus = shown["Plecotus auritus"]
    expected = evaluate(
        window.session.all_analyses(),
        read_annotations([annotations], window.session.labels),
        window.thresholds.settings(),
    )
    assert plecotus == next(m for m in expected.species if m.species == "Plecotus auritus")
    assert plecotus.n_positive > 0
    assert plecotus.pr_auc is not None
    assert dialog.evaluation is not None
    assert dialog.evaluation.curve("Plecotus auritus") is not None
    # Its curve, and its point at the threshold when it has detections there.
    point = plecotus.precision is not None
    assert len(dialog.plot.getPlotItem().listDataItems()) == 1 + point
    dialog.granularity_box.setCurrentText("recording")
    assert dialog.evaluation.granularity == "recording"
    assert dialog.evaluation.n_units == 1
    # A file that is not an annotation file: one message, no dialog.
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n")
    window._dialog = None
    window.evaluate_annotations([wrong])
    assert window._dialog is None
    assert "Annotations not usable" in window.status_label.text()
