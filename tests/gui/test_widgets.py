"""Single widgets and controllers, each built alone (no main window) around real core objects: a
model change reaches the view, and a user action reaches the model.

* :class:`ThresholdPanel` over a :class:`ThresholdModel`;
* :class:`DetectionsModel` over the events of real analyses (behind a table view);
* :class:`ReviewController` over a :class:`SurveySession` and a review store on disk;
* :class:`SpectrogramLoader` (its thread and compute process) on small WAVs;
* :class:`GuanoWriter` (its thread) on copies of WAVs from ``tests/wav_corpus.py``.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import struct
from typing import TYPE_CHECKING

import guano
import numpy as np
import pytest
from audio_factory import chirp_train, write_wav
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView
from wav_corpus import CASES

from bsgbat_gui.core.analysis.analyse import RecordingAnalysis, windows_for
from bsgbat_gui.core.analysis.stacked import StackedAnalyses
from bsgbat_gui.core.audio.guano_write import GuanoUpdate
from bsgbat_gui.core.audio.recording import ModelRateSignal, RecordingInfo, probe_recording
from bsgbat_gui.core.audio.spectrogram import display_spectrogram
from bsgbat_gui.core.compute.jobs import LoadedSpectrogram
from bsgbat_gui.core.files import canonical_path
from bsgbat_gui.core.model_card import BACKGROUND_LABEL
from bsgbat_gui.core.review.decisions import (
    STATUS_CONFIRMED,
    STATUS_REJECTED,
    STATUS_RELABELLED,
    Decision,
    attach_decisions,
)
from bsgbat_gui.core.review.store import ReviewStore
from bsgbat_gui.core.session.selection import SelectedEvent
from bsgbat_gui.core.session.survey_session import OpenedPaths, SurveySession
from bsgbat_gui.core.species import SPECIES
from bsgbat_gui.gui.detections_panel import COL_STATUS, COLUMNS, DetectionsModel
from bsgbat_gui.gui.review import ReviewController
from bsgbat_gui.gui.threshold_model import ThresholdModel
from bsgbat_gui.gui.threshold_panel import SLIDER_STEPS, ThresholdPanel
from bsgbat_gui.gui.worker import GuanoWriter, SpectrogramLoader

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from bsgbat_gui.core.analysis.detections import SurveyDetections

LABELS = tuple(s.scientific_name for s in SPECIES)
PIPPIP = LABELS.index("Pipistrellus pipistrellus")
NYCNOC = LABELS.index("Nyctalus noctula")
RATE = 384_000
SLOW_MS = 60_000  # a compute process's first start (spawn, imports, warm-up) on a busy machine


# -- real analyses, built from arrays as the core tests build them ------------------------------


def synthetic_analysis(
    path: Path, seconds: float, peaks: dict[int, list[tuple[int, float]]]
) -> RecordingAnalysis:
    """An analysis whose probabilities are 0.01 except ``peaks`` {label: [(segment, p)]}; the
    six models agree, so every combine method gives these probabilities."""
    info = RecordingInfo(
        path=path, header_rate_hz=RATE, channels=1, header_frames=round(seconds * RATE),
        format="WAV", subtype="PCM_16", time_expansion=1.0, time_expansion_source="none",
    )  # fmt: skip
    windows = windows_for(info)
    p = np.full((len(windows), len(LABELS)), 0.01, np.float64)
    for label, values in peaks.items():
        for segment, value in values:
            p[segment, label] = value
    logits = np.log(p / (1 - p)).astype(np.float32)
    return RecordingAnalysis(
        info, tuple(windows), np.repeat(logits[None], 6, axis=0), LABELS, tuple("abcdef")
    )


def two_analyses(folder: Path) -> tuple[RecordingAnalysis, RecordingAnalysis]:
    """At threshold 0.5, five events: A has Nycnoc in window 0 (0.6), Pippip in windows 1-2
    (0.9, 0.8) and window 5 (0.7); B has Pippip in window 0 (0.95), Nycnoc in window 2 (0.55),
    its tail window (0.978-2.0 s). Windows start every 0.5 s and last 1.024 s."""
    a = synthetic_analysis(
        canonical_path(folder / "A.wav"), 4.0,
        {PIPPIP: [(1, 0.9), (2, 0.8), (5, 0.7)], NYCNOC: [(0, 0.6)]},
    )  # fmt: skip
    b = synthetic_analysis(
        canonical_path(folder / "B.wav"), 2.0, {PIPPIP: [(0, 0.95)], NYCNOC: [(2, 0.55)]}
    )
    return a, b


def event_keys(detections: SurveyDetections) -> list[tuple[str, str, float, float]]:
    """Each event as (file name, label, start, end), in event order."""
    return [
        (detections.paths[int(r)].name, LABELS[int(k)], float(s), float(e))
        for r, k, s, e in zip(
            detections.recording_index, detections.events.label_index,
            detections.events.start_s, detections.events.end_s, strict=True,
        )
    ]  # fmt: skip


def selected(detections: SurveyDetections, name: str, label: int, start_s: float) -> SelectedEvent:
    """The event of ``name`` and ``label`` that starts at ``start_s``."""
    for i, key in enumerate(event_keys(detections)):
        if key[:2] == (name, LABELS[label]) and key[2] == pytest.approx(start_s):
            return SelectedEvent(detections.paths[int(detections.recording_index[i])],
                                 key[1], key[2], key[3])  # fmt: skip
    raise AssertionError(f"no {LABELS[label]} event at {start_s} s in {name}")


# -- ThresholdPanel over a ThresholdModel -------------------------------------------------------


@pytest.fixture
def threshold_panel(qtbot) -> ThresholdPanel:
    panel = ThresholdPanel(ThresholdModel(LABELS))
    qtbot.addWidget(panel)
    panel.show()
    return panel


def shown_threshold(panel: ThresholdPanel, label: str) -> tuple[int, float]:
    row = panel.rows[label]
    return row.slider.value(), row.spin.value()


def test_threshold_set_in_the_model_moves_only_that_species_row(
    qtbot, threshold_panel: ThresholdPanel
) -> None:
    model = threshold_panel.model
    assert set(threshold_panel.rows) == set(LABELS)
    assert all(shown_threshold(threshold_panel, x) == (500, 0.5) for x in LABELS)
    with qtbot.waitSignal(model.thresholds_changed):
        model.set_threshold(LABELS[PIPPIP], 0.73)
    assert shown_threshold(threshold_panel, LABELS[PIPPIP]) == (730, pytest.approx(0.73))
    others = [x for x in LABELS if x != LABELS[PIPPIP]]
    assert all(shown_threshold(threshold_panel, x) == (500, 0.5) for x in others)
    # The model keeps thousandths; the row shows the value the model kept, not the one asked.
    model.set_threshold(LABELS[NYCNOC], 0.12345)
    assert model.threshold(LABELS[NYCNOC]) == pytest.approx(0.123)
    assert shown_threshold(threshold_panel, LABELS[NYCNOC]) == (123, pytest.approx(0.123))
    model.set_combine("max")
    assert threshold_panel.combine_box.currentText() == "max"


def test_typing_in_the_spin_box_sets_the_model_once_and_moves_the_slider(
    qtbot, threshold_panel: ThresholdPanel
) -> None:
    model = threshold_panel.model
    row = threshold_panel.rows[LABELS[PIPPIP]]
    changes: list[str] = []
    model.threshold_changed.connect(changes.append)
    recomputations: list[None] = []
    model.thresholds_changed.connect(lambda: recomputations.append(None))
    row.spin.selectAll()
    qtbot.keyClicks(row.spin, "0.75")
    assert changes == []  # keyboard tracking is off: nothing until the value is entered
    qtbot.keyClick(row.spin, Qt.Key.Key_Return)
    assert changes == [LABELS[PIPPIP]]  # one value: "0.75" is one change, not four
    assert len(recomputations) == 1
    assert model.threshold(LABELS[PIPPIP]) == pytest.approx(0.75)
    assert row.slider.value() == round(0.75 * SLIDER_STEPS)  # the slider follows the model
    assert model.settings().thresholds[LABELS[PIPPIP]] == pytest.approx(0.75)

    # The slider writes to the same model value; the spin box follows (the panel keeps no copy).
    row.slider.setValue(250)
    assert model.threshold(LABELS[PIPPIP]) == pytest.approx(0.25)
    assert row.spin.value() == pytest.approx(0.25)
    assert changes == [LABELS[PIPPIP]] * 2


def test_the_visibility_box_and_the_model_agree(qtbot, threshold_panel: ThresholdPanel) -> None:
    model = threshold_panel.model
    row = threshold_panel.rows[LABELS[NYCNOC]]
    assert row.visible_box.isChecked()
    assert not threshold_panel.rows[BACKGROUND_LABEL].visible_box.isChecked()  # not a species
    with qtbot.waitSignal(model.visibility_changed) as blocker:
        qtbot.mouseClick(row.visible_box, Qt.MouseButton.LeftButton)
    assert blocker.args == [LABELS[NYCNOC]]
    assert not model.is_visible(LABELS[NYCNOC])
    assert LABELS[NYCNOC] not in model.visible_labels()
    model.set_visible(LABELS[NYCNOC], True)
    assert row.visible_box.isChecked()
    model.set_visible(BACKGROUND_LABEL, True)
    assert threshold_panel.rows[BACKGROUND_LABEL].visible_box.isChecked()


def test_set_all_and_reset_reach_the_model_and_every_row(
    qtbot, threshold_panel: ThresholdPanel
) -> None:
    model = threshold_panel.model
    model.set_threshold(BACKGROUND_LABEL, 0.8)
    threshold_panel.set_all_spin.setValue(0.3)
    recomputations: list[None] = []
    model.thresholds_changed.connect(lambda: recomputations.append(None))
    qtbot.mouseClick(threshold_panel.set_all_button, Qt.MouseButton.LeftButton)
    assert len(recomputations) == 1  # events are found again once, not once per species
    species = [x for x in LABELS if x != BACKGROUND_LABEL]
    assert all(model.threshold(x) == pytest.approx(0.3) for x in species)
    assert all(shown_threshold(threshold_panel, x) == (300, pytest.approx(0.3)) for x in species)
    assert model.threshold(BACKGROUND_LABEL) == pytest.approx(0.8)  # set all leaves it alone
    assert shown_threshold(threshold_panel, BACKGROUND_LABEL) == (800, pytest.approx(0.8))

    qtbot.mouseClick(threshold_panel.reset_button, Qt.MouseButton.LeftButton)
    assert len(recomputations) == 2
    assert all(model.threshold(x) == 0.5 for x in LABELS)  # Background's included
    assert all(shown_threshold(threshold_panel, x) == (500, 0.5) for x in LABELS)


def test_a_species_excluded_in_the_model_cannot_be_set_in_its_row(
    threshold_panel: ThresholdPanel,
) -> None:
    model = threshold_panel.model
    model.set_excluded({LABELS[NYCNOC]})
    row = threshold_panel.rows[LABELS[NYCNOC]]
    assert not row.slider.isEnabled()
    assert not row.spin.isEnabled()
    assert row.survey_note == "excluded from detection"
    assert threshold_panel.rows[LABELS[PIPPIP]].slider.isEnabled()
    model.set_excluded(set())
    assert row.slider.isEnabled()
    assert row.survey_note == ""


# -- DetectionsModel over real detection events --------------------------------------------------


def shown_rows(model: DetectionsModel) -> list[tuple[str, ...]]:
    return [
        tuple(str(model.data(model.index(r, c), Qt.ItemDataRole.DisplayRole))
              for c in range(model.columnCount()))
        for r in range(model.rowCount())
    ]  # fmt: skip


@pytest.fixture
def detections_view(qtbot, tmp_path: Path) -> tuple[QTableView, StackedAnalyses]:
    stacked = StackedAnalyses()
    for analysis in two_analyses(tmp_path):
        stacked.add(analysis)
    view = QTableView()
    view.setModel(DetectionsModel(view))
    view.setSortingEnabled(True)
    qtbot.addWidget(view)
    view.show()
    return view, stacked


def test_detections_model_rows_columns_sort_and_filters(
    qtbot, qtmodeltester, detections_view: tuple[QTableView, StackedAnalyses]
) -> None:
    view, stacked = detections_view
    model = view.model()
    assert isinstance(model, DetectionsModel)
    detections = stacked.detections(np.full(len(LABELS), 0.5))
    with qtbot.waitSignal(model.modelReset):
        model.set_detections(detections, LABELS, [], np.full(len(detections.events), -1))
    qtmodeltester.check(model)
    assert [model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
            for c in range(model.columnCount())] == list(COLUMNS)  # fmt: skip
    # Sorted by start (the view's start-up order); a tie broken by recording.
    view.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    assert shown_rows(model) == [
        ("A.wav", "Nycnoc", "0.000", "1.024", "0.600", "0.600", "1", "unreviewed"),
        ("B.wav", "Pippip", "0.000", "1.024", "0.950", "0.950", "1", "unreviewed"),
        ("A.wav", "Pippip", "0.500", "2.024", "0.900", "0.850", "2", "unreviewed"),
        ("B.wav", "Nycnoc", "0.978", "2.000", "0.550", "0.550", "1", "unreviewed"),
        ("A.wav", "Pippip", "2.500", "3.524", "0.700", "0.700", "1", "unreviewed"),
    ]
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole) == str(detections.paths[0])
    # Clicking a header sorts the model (the view calls its sort()).
    view.sortByColumn(4, Qt.SortOrder.DescendingOrder)
    assert [r[4] for r in shown_rows(model)] == ["0.950", "0.900", "0.700", "0.600", "0.550"]
    first = model.event_at(0)
    assert first is not None
    assert (first.path.name, first.label, first.start_s) == ("B.wav", LABELS[PIPPIP], 0.0)

    model.set_filters(species=LABELS[NYCNOC])
    assert [(r[0], r[1]) for r in shown_rows(model)] == [("A.wav", "Nycnoc"), ("B.wav", "Nycnoc")]
    model.set_filters(species="", recording=detections.paths[1])
    assert [r[0] for r in shown_rows(model)] == ["B.wav", "B.wav"]
    model.set_filters(recording=None, min_prob=0.8)
    assert [r[4] for r in shown_rows(model)] == ["0.950", "0.900"]
    model.set_filters(min_prob=0.0, visible_labels={LABELS[NYCNOC]})
    assert {r[1] for r in shown_rows(model)} == {"Nycnoc"}
    model.set_filters(visible_labels=None)
    assert model.rowCount() == 5

    # New thresholds (a model change): the view's rows follow.
    higher = np.full(len(LABELS), 0.5)
    higher[PIPPIP] = 0.85
    with qtbot.waitSignal(model.modelReset):
        model.set_detections(stacked.detections(higher), LABELS, [], np.full(4, -1))
    assert view.model().rowCount() == 4
    assert [(r[0], r[1], r[2], r[4]) for r in shown_rows(model) if r[1] == "Pippip"] == [
        ("B.wav", "Pippip", "0.000", "0.950"), ("A.wav", "Pippip", "0.500", "0.900"),
    ]  # fmt: skip


def test_detections_model_shows_the_decisions_attached_to_its_events(
    qtbot, detections_view: tuple[QTableView, StackedAnalyses]
) -> None:
    view, stacked = detections_view
    model = view.model()
    assert isinstance(model, DetectionsModel)
    detections = stacked.detections(np.full(len(LABELS), 0.5))
    model.set_detections(detections, LABELS, [], np.full(len(detections.events), -1))
    a, b = detections.paths
    decided = "2024-06-10T09:00:00+02:00"
    decisions = [
        # Made on a wider span than the event has now: still attached (overlap).
        Decision(a, LABELS[PIPPIP], 0.0, 2.024, STATUS_CONFIRMED, LABELS[PIPPIP], "", "Ann",
                 decided, id=1),
        Decision(b, LABELS[PIPPIP], 0.0, 1.024, STATUS_RELABELLED, LABELS[NYCNOC], "social?",
                 "Bob", decided, id=2),
        Decision(b, LABELS[NYCNOC], 1.0, 2.0, STATUS_REJECTED, "", "", "Bob", decided, id=3),
        Decision(a, LABELS[NYCNOC], 3.0, 4.0, STATUS_REJECTED, "", "", "Bob", decided, id=4),
    ]  # fmt: skip
    keys = event_keys(detections)
    attached = attach_decisions(
        [detections.paths[int(i)] for i in detections.recording_index],
        [k[1] for k in keys], detections.events.start_s, detections.events.end_s, decisions,
    )  # fmt: skip
    view.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    with qtbot.waitSignal(model.dataChanged) as blocker:
        model.set_decisions(decisions, attached)
    top_left, bottom_right = blocker.args[:2]
    assert top_left.column() == bottom_right.column() == COL_STATUS
    assert (top_left.row(), bottom_right.row()) == (0, 4)
    assert [(r[0], r[1], r[2], r[COL_STATUS]) for r in shown_rows(model)] == [
        ("A.wav", "Nycnoc", "0.000", "unreviewed"),  # decision 4 is on another span
        ("B.wav", "Pippip", "0.000", "→ Nycnoc"),
        ("A.wav", "Pippip", "0.500", "confirmed"),
        ("B.wav", "Nycnoc", "0.978", "rejected"),
        ("A.wav", "Pippip", "2.500", "unreviewed"),
    ]
    tooltip = model.data(model.index(1, COL_STATUS), Qt.ItemDataRole.ToolTipRole)
    assert tooltip.splitlines() == [
        f"relabelled by Bob at {decided}",
        f"species: {LABELS[NYCNOC]}",
        "note: social?",
    ]
    assert model.is_reviewed(2)
    assert not model.is_reviewed(0)
    # Sorted by status: unreviewed first, then confirmed, relabelled, rejected.
    view.sortByColumn(COL_STATUS, Qt.SortOrder.AscendingOrder)
    assert [r[COL_STATUS] for r in shown_rows(model)] == [
        "unreviewed", "unreviewed", "confirmed", "→ Nycnoc", "rejected"
    ]  # fmt: skip
    model.set_filters(unreviewed_only=True)
    assert [(r[0], r[2]) for r in shown_rows(model)] == [("A.wav", "0.000"), ("A.wav", "2.500")]


# -- ReviewController over a SurveySession and a review store on disk -----------------------------


def stored_decisions(path: Path) -> list[Decision]:
    """The decisions as another reader finds them in the store file (the session's store holds
    the instance lock, so this one is opened read-only)."""
    store = ReviewStore.open(path)
    try:
        assert store.read_only
        return store.decisions()
    finally:
        store.close()


@pytest.fixture
def review(qtbot, tmp_path: Path) -> Iterator[tuple[ReviewController, Path]]:
    root = canonical_path(tmp_path)
    a, b = two_analyses(root / "night")
    (root / "night").mkdir()
    for analysis in (a, b):  # the store keeps each decided recording's size and content hash
        write_wav(analysis.info.path, chirp_train(RATE, analysis.info.duration_s), RATE)
    session = SurveySession()
    session.open(OpenedPaths((root / "night",), (a.info.path, b.info.path)))
    store_path = root / "review.sqlite"
    session.set_store(ReviewStore.open(store_path))
    for analysis in (a, b):
        session.add_analysis(analysis)
    session.refresh_detections(np.full(len(LABELS), 0.5))
    controller = ReviewController(session)
    controller.reviewer = "Ann"
    yield controller, store_path
    session.close()


def test_decisions_undo_and_redo_leave_in_the_store_what_the_undo_stack_says(
    qtbot, review: tuple[ReviewController, Path]
) -> None:
    controller, store_path = review
    session = controller.session
    detections = session.detections
    assert detections is not None
    pip_a = selected(detections, "A.wav", PIPPIP, 0.5)
    noc_b = selected(detections, "B.wav", NYCNOC, 0.978)

    def decision_on(event: SelectedEvent) -> Decision | None:
        index = next(
            i for i, key in enumerate(event_keys(detections))
            if key == (event.path.name, event.label, event.start_s, event.end_s)
        )  # fmt: skip
        return session.decision_of_event(index)

    problems: list[str] = []
    controller.problem.connect(problems.append)
    states: list[list[Decision]] = [stored_decisions(store_path)]
    assert states == [[]]
    with qtbot.waitSignal(controller.decisions_changed):
        assert controller.decide(pip_a, None, STATUS_CONFIRMED, LABELS[PIPPIP])
    states.append(stored_decisions(store_path))
    with qtbot.waitSignal(controller.decisions_changed):
        assert controller.decide(pip_a, decision_on(pip_a), STATUS_RELABELLED, LABELS[NYCNOC],
                                 note="social calls")  # fmt: skip
    states.append(stored_decisions(store_path))
    with qtbot.waitSignal(controller.decisions_changed):
        assert controller.decide(noc_b, None, STATUS_REJECTED, "")
    states.append(stored_decisions(store_path))

    confirmed, relabelled, rejected = states[1][0], states[2][0], states[3][1]
    assert (confirmed.path, confirmed.species, confirmed.status, confirmed.final_species) == (
        pip_a.path,
        LABELS[PIPPIP],
        STATUS_CONFIRMED,
        LABELS[PIPPIP],
    )
    assert (confirmed.start_s, confirmed.end_s, confirmed.reviewer) == (0.5, 2.024, "Ann")
    assert confirmed.decided_at  # stamped when stored
    assert len(states[2]) == 1  # the relabel replaced the confirmation (same event, same id)
    assert (relabelled.id, relabelled.status, relabelled.final_species, relabelled.note) == (
        confirmed.id,
        STATUS_RELABELLED,
        LABELS[NYCNOC],
        "social calls",
    )
    assert states[3] == [relabelled, rejected]
    assert (rejected.path, rejected.species, rejected.status) == (
        noc_b.path,
        LABELS[NYCNOC],
        STATUS_REJECTED,
    )
    assert decision_on(pip_a) == relabelled
    assert decision_on(noc_b) == rejected
    stack = controller.undo_stack
    assert [stack.text(i) for i in range(stack.count())] == [
        "confirmed PIPPIP", "relabelled NYCNOC", "rejected NYCNOC"
    ]  # fmt: skip

    def check(index: int) -> None:
        assert stack.index() == index
        assert stored_decisions(store_path) == states[index]  # on disk
        assert session.decisions == states[index]  # and in the session
        assert decision_on(pip_a) == next(
            (d for d in states[index] if d.species == LABELS[PIPPIP]), None
        )

    for index in (2, 1, 0):
        with qtbot.waitSignal(controller.decisions_changed):
            stack.undo()
        check(index)
    assert not stack.canUndo()
    for index in (1, 2, 3):
        with qtbot.waitSignal(controller.decisions_changed):
            stack.redo()
        check(index)
    assert not stack.canRedo()
    with qtbot.waitSignal(controller.decisions_changed):
        stack.undo()
    check(2)

    assert problems == []
    # Closed and reopened for writing, the store still holds exactly that state.
    session.close()
    with ReviewStore.open(store_path) as reopened:
        assert not reopened.read_only
        assert reopened.decisions() == states[2]


def test_a_decision_on_a_read_only_store_is_refused_and_said(
    qtbot, review: tuple[ReviewController, Path]
) -> None:
    controller, store_path = review
    assert controller.session.detections is not None
    event = selected(controller.session.detections, "B.wav", PIPPIP, 0.0)
    other = SurveySession()  # a second window on the same survey gets the store read-only
    other.set_store(ReviewStore.open(store_path))
    second = ReviewController(other)
    try:
        assert other.store is not None
        assert other.store.read_only
        with qtbot.waitSignal(second.problem) as blocker:
            assert not second.decide(event, None, STATUS_CONFIRMED, LABELS[PIPPIP])
        assert "read-only" in blocker.args[0]
        assert second.undo_stack.count() == 0
    finally:
        other.close()
    assert stored_decisions(store_path) == []


def test_a_decision_the_store_refuses_is_said_and_not_left_on_the_undo_stack(
    qtbot, review: tuple[ReviewController, Path]
) -> None:
    controller, store_path = review
    session = controller.session
    assert session.detections is not None
    event = selected(session.detections, "B.wav", PIPPIP, 0.0)
    saved = selected(session.detections, "A.wav", PIPPIP, 0.5)
    assert controller.decide(saved, None, STATUS_CONFIRMED, LABELS[PIPPIP])
    assert controller.undo_stack.count() == 1
    event.path.unlink()  # the store cannot describe a recording that is gone: the write fails
    with qtbot.waitSignal(controller.problem) as blocker:
        assert not controller.decide(event, None, STATUS_CONFIRMED, LABELS[PIPPIP])
    assert "not saved" in blocker.args[0]
    # The history says what the store holds: the saved decision only, undoable as before.
    assert controller.undo_stack.count() == 1
    assert [d.path.name for d in stored_decisions(store_path)] == ["A.wav"]
    controller.undo_stack.undo()
    assert stored_decisions(store_path) == []


# -- SpectrogramLoader ---------------------------------------------------------------------------


@pytest.fixture
def loader(qtbot) -> Iterator[SpectrogramLoader]:
    loader = SpectrogramLoader()
    yield loader
    loader.shutdown()  # idempotent: a test may have shut it down already


def spectrogram_of(path: Path) -> np.ndarray:
    """The display spectrogram computed directly, in this process."""
    with ModelRateSignal(probe_recording(path)) as signal:
        computed = display_spectrogram(signal)
    assert computed is not None
    return computed.db


def test_the_loader_delivers_the_display_spectrogram_of_a_recording(
    qtbot, loader: SpectrogramLoader, tmp_path: Path
) -> None:
    path = write_wav(tmp_path / "calls.wav", chirp_train(RATE, 0.6, seed=3), RATE)
    with qtbot.waitSignal(loader.loaded, timeout=SLOW_MS) as blocker:
        loader.request(path)
    loaded = blocker.args[0]
    assert isinstance(loaded, LoadedSpectrogram)
    assert loaded.path == path
    assert loaded.info.duration_s == pytest.approx(0.6)
    # Equal up to float32 summation order (numpy's BLAS sums the mel bands in another order
    # with another number of threads: the helper process and this one may differ).
    np.testing.assert_allclose(loaded.spectrogram.db, spectrogram_of(path), rtol=0, atol=1e-4)
    assert loaded.spectrogram.frames_per_column == 1  # short: every frame is a column


def test_a_newer_request_supersedes_an_older_one(
    qtbot, loader: SpectrogramLoader, tmp_path: Path
) -> None:
    paths = [
        write_wav(tmp_path / f"rec{i}.wav", chirp_train(RATE, 0.3 + 0.2 * i, seed=i), RATE)
        for i in range(3)
    ]
    delivered: list[Path] = []
    loader.loaded.connect(lambda loaded: delivered.append(loaded.path))
    with qtbot.waitSignal(loader.loaded, timeout=SLOW_MS) as blocker:
        loader.request(paths[0])
        loader.request(paths[1])
    assert blocker.args[0].path == paths[1]
    np.testing.assert_allclose(
        blocker.args[0].spectrogram.db, spectrogram_of(paths[1]), rtol=0, atol=1e-4
    )
    # One more request, waited for: requests are worked through in order, so a late result of
    # the first would have arrived before this one.
    with qtbot.waitSignal(loader.loaded, timeout=SLOW_MS):
        loader.request(paths[2])
    assert delivered == [paths[1], paths[2]]


def test_an_unreadable_file_is_reported_and_the_loader_goes_on(
    qtbot, loader: SpectrogramLoader, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x04\x00\x00\x00WAVE")
    with qtbot.waitSignal(loader.failed, timeout=SLOW_MS) as blocker:
        loader.request(broken)
    assert blocker.args[0] == broken
    assert blocker.args[1]
    good = write_wav(tmp_path / "good.wav", chirp_train(RATE, 0.3), RATE)
    with qtbot.waitSignal(loader.loaded, timeout=SLOW_MS) as loaded:
        loader.request(good)
    assert loaded.args[0].path == good


def test_the_loader_shuts_down_its_thread_and_process(qtbot, tmp_path: Path) -> None:
    before = set(multiprocessing.active_children())
    loader = SpectrogramLoader()
    path = write_wav(tmp_path / "calls.wav", chirp_train(RATE, 0.3), RATE)
    with qtbot.waitSignal(loader.loaded, timeout=SLOW_MS):
        loader.request(path)
    children = set(multiprocessing.active_children()) - before
    assert [p.name for p in children] == ["spectrogram"]
    assert loader._thread.isRunning()
    loader.shutdown()
    assert not loader._thread.isRunning()
    assert not any(p.is_alive() for p in children)
    delivered: list[object] = []
    loader.loaded.connect(delivered.append)
    loader.shutdown()  # a second time: nothing left to stop, nothing raised
    assert delivered == []


# -- GuanoWriter ---------------------------------------------------------------------------------


def riff_chunks(raw: bytes) -> dict[bytes, bytes]:
    """The bodies of a well-formed RIFF file's chunks, by id (a plain reading of the format)."""
    assert raw[:4] == b"RIFF"
    assert raw[8:12] == b"WAVE"
    chunks, pos = {}, 12
    while pos + 8 <= len(raw):
        chunk_id, size = raw[pos : pos + 4], struct.unpack("<I", raw[pos + 4 : pos + 8])[0]
        chunks[chunk_id] = raw[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    return chunks


@pytest.fixture
def guano_writer(qtbot) -> Iterator[GuanoWriter]:
    writer = GuanoWriter()
    yield writer
    writer.shutdown()


def test_the_guano_writer_writes_species_and_reports_a_file_it_cannot_write(
    qtbot, guano_writer: GuanoWriter, tmp_path: Path
) -> None:
    cases = {c.name: c for c in CASES}
    plain = cases["plain.wav"].make(tmp_path / "plain.wav")
    te10 = cases["wamd-and-guan.wav"].make(tmp_path / "wamd-and-guan.wav")
    truncated = cases["truncated.wav"].make(tmp_path / "truncated.wav")
    audio = {
        p: hashlib.sha256(riff_chunks(p.read_bytes())[b"data"]).digest() for p in (plain, te10)
    }
    truncated_bytes = truncated.read_bytes()
    updates = [
        GuanoUpdate(plain, ("PIPPIP",)),
        GuanoUpdate(te10, ("NYCNOC", "PIPPIP"), time_expansion=10.0),
        GuanoUpdate(truncated, ("PIPPIP",)),
    ]
    done: list[tuple[Path, str, str]] = []
    guano_writer.file_done.connect(lambda path, sha, error: done.append((path, sha, error)))
    with qtbot.waitSignal(guano_writer.finished, timeout=SLOW_MS):
        guano_writer.start(updates)

    assert [d[0] for d in done] == [plain, te10, truncated]  # one report per file, in order
    for path, sha, error in done[:2]:
        assert error == ""
        raw = path.read_bytes()
        assert sha == hashlib.sha256(raw).hexdigest()  # what the store will record
        assert hashlib.sha256(riff_chunks(raw)[b"data"]).digest() == audio[path]  # audio kept
    g = guano.GuanoFile(str(plain))
    assert g["Species Manual ID"] == "PIPPIP"
    g = guano.GuanoFile(str(te10))
    assert g["Species Manual ID"] == "NYCNOC, PIPPIP"
    assert (g["TE"], g["Species Auto ID"], g["Note"]) == (10, "NYCNOC", "field note")  # kept

    path, sha, error = done[2]
    assert sha == ""
    assert "truncated" in error
    assert truncated.read_bytes() == truncated_bytes  # not damaged: left byte for byte
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["plain.wav", "wamd-and-guan.wav", "truncated.wav"]
    )  # no temporary file left behind
