"""Reviewing with the keyboard: decisions go to the store at once, undo/redo, relabel, and a
reopened folder restores everything without analysing again."""

from __future__ import annotations

from pathlib import Path

import pytest
from audio_factory import chirp_train, write_wav
from PySide6.QtCore import Qt

from bsgbat_gui.core.review.decisions import STATUS_CONFIRMED, STATUS_REJECTED, STATUS_RELABELLED
from bsgbat_gui.core.review.store import ReviewStore
from bsgbat_gui.core.session.recordings import STATUS_DONE, STATUS_FAILED
from bsgbat_gui.gui.review import SpeciesPicker


def make_night(folder: Path) -> Path:
    folder.mkdir()
    for i in range(2):
        write_wav(folder / f"rec{i}.wav", chirp_train(384_000, 6.0, seed=30 + i), 384_000)
    return folder


def open_analysed(qtbot, make_window, folder: Path, models: Path, *, failed_ok: bool = False):
    """A window on ``folder`` once every recording is analysed (or failed, with
    ``failed_ok``)."""
    window = make_window(paths=[folder], models_dir=models)
    ends = (STATUS_DONE, STATUS_FAILED) if failed_ok else (STATUS_DONE,)
    qtbot.waitUntil(
        lambda: (
            bool(window.recordings.rows) and all(r.status in ends for r in window.recordings.rows)
        ),
        timeout=300_000,
    )
    window.activateWindow()
    return window


def press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A key typed with the focus where the app puts it (the recordings list)."""
    qtbot.keyClick(window.recordings_panel.table, key, modifier)


def test_keyboard_review_is_saved_undone_and_restored(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    folder = make_night(tmp_path / "night")
    window = open_analysed(qtbot, make_window, folder, model_set_dir)
    window.thresholds.set_all(0.2)  # plenty of detections on these synthetic calls
    panel = window.detections_panel
    n_events = panel.model.rowCount()
    assert n_events >= 4
    store_path = folder / "bsgbat-review.sqlite"
    assert window.review.store is not None
    assert window.review.store.path == store_path

    press(qtbot, window, Qt.Key.Key_Right)  # first detection, shown
    first = panel.model.event_at(panel.current_row())
    assert first is not None
    assert window.current_path == first.path
    press(qtbot, window, Qt.Key.Key_A)  # confirm -> next unreviewed
    assert panel.current_row() == 1
    press(qtbot, window, Qt.Key.Key_R)  # reject
    press(qtbot, window, Qt.Key.Key_L)  # relabel: a picker opens, type to search, Enter
    picker = window.review_actions.dialog
    assert isinstance(picker, SpeciesPicker)
    qtbot.keyClicks(picker.filter, "noctula")
    assert picker.chosen() == "Nyctalus noctula"
    qtbot.keyClick(picker.filter, Qt.Key.Key_Return)

    with ReviewStore.open(store_path, exclusive=False) as other:  # committed, as another reader
        stored = other.decisions()
    assert [d.status for d in stored] == [STATUS_CONFIRMED, STATUS_REJECTED, STATUS_RELABELLED]
    assert stored[0].species == first.label
    assert stored[0].final_species == first.label
    assert stored[2].final_species == "Nyctalus noctula"
    assert stored[1].final_species == ""
    assert stored[0].reviewer == window.review.reviewer
    assert "3 of" in panel.count_label.text()

    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the relabel
    assert len(window.review.decisions) == 2
    press(
        qtbot,
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert [d.status for d in window.review.decisions][-1] == STATUS_RELABELLED

    # A threshold change reshapes the events; the decisions stay attached.
    window.thresholds.set_all(0.25)
    assert int((panel.model.attached >= 0).sum()) >= 3
    window.thresholds.set_all(0.2)
    selected = panel.model.event_at(panel.current_row())
    window.close()

    # Reopened: decisions, thresholds and selection are back, and nothing is analysed again.
    again = open_analysed(qtbot, make_window, folder, model_set_dir)
    assert all(r.from_cache for r in again.recordings.rows)
    assert [d.status for d in again.review.decisions] == [
        STATUS_CONFIRMED,
        STATUS_REJECTED,
        STATUS_RELABELLED,
    ]
    assert again.thresholds.threshold(first.label) == pytest.approx(0.2)
    qtbot.waitUntil(lambda: again.detections_panel.current_row() >= 0)
    assert again.detections_panel.model.event_at(again.detections_panel.current_row()) == selected
    done = {r.path.name: (r.events_reviewed, r.events_total) for r in again.recordings.rows}
    assert sum(d for d, _ in done.values()) == 3


def test_a_second_window_on_the_same_folder_is_read_only(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    folder = make_night(tmp_path / "night")
    first = open_analysed(qtbot, make_window, folder, model_set_dir)
    second = open_analysed(qtbot, make_window, folder, model_set_dir)
    assert second.review.store is not None
    assert second.review.store.read_only
    assert "READ-ONLY" in second.store_label.text()
    second.thresholds.set_all(0.2)
    second.detections_panel.step(1)
    second.review_actions.decide(STATUS_CONFIRMED)
    assert second.review.decisions == []
    assert "read-only" in second.status_label.text()
    assert not first.review.store.read_only


def test_a_read_only_folder_keeps_its_store_in_the_user_data_folder(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_night(tmp_path / "night")
    import os

    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == folder.resolve() else real_access(p, mode)
    )  # root writes anywhere; pretend the survey folder is read-only
    window = open_analysed(qtbot, make_window, folder, model_set_dir)
    store = window.review.store
    assert store is not None
    assert not store.read_only
    assert folder not in store.path.parents
    assert "the folder is read-only" in window.store_label.text()


def test_an_unusable_store_is_said_persistently_and_never_overwritten(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    """A review store that is not one (0 bytes, or damaged): the window says so where it stays
    in sight, a decision key says why nothing is saved, and the file is left as it was."""
    folder = make_night(tmp_path / "night")
    store_path = folder / "bsgbat-review.sqlite"
    store_path.write_bytes(b"")
    window = open_analysed(qtbot, make_window, folder, model_set_dir)
    assert window.review.store is None
    assert "No review store" in window.store_label.text()
    assert "0 bytes" in window.store_label.toolTip()
    window.thresholds.set_all(0.2)
    press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_A)
    assert "Not saved: the review store cannot be used" in window.status_label.text()
    assert "0 bytes" in window.status_label.text()
    qtbot.wait(1500)  # later messages do not hide it: the store label keeps saying it
    assert "No review store" in window.store_label.text()
    assert store_path.read_bytes() == b""


def test_a_reviewed_folder_moved_elsewhere_opens_with_its_review(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    """The survey folder moved to another disk keeps its decisions, its selection and its cache
    in the window (the store kept absolute paths: a moved copy showed 0 reviewed)."""
    folder = make_night(tmp_path / "night")
    window = open_analysed(qtbot, make_window, folder, model_set_dir)
    window.thresholds.set_all(0.2)
    press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_A)
    decided = window.review.decisions[0]
    window.close()
    moved = tmp_path / "other-disk" / "survey"
    moved.parent.mkdir()
    folder.rename(moved)
    again = open_analysed(qtbot, make_window, moved, model_set_dir)
    assert all(r.from_cache for r in again.recordings.rows)  # nothing analysed again
    [decision] = again.review.decisions
    assert decision.path == moved / decided.path.name
    assert decision.status == STATUS_CONFIRMED
    done = sum(r.events_reviewed for r in again.recordings.rows)
    assert done == 1
