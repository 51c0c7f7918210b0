"""The survey session without a window: open a folder of real recordings, analyse it, review
it, reopen it — the state the window only shows, driven directly."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from real_recordings import real_recording

from bsgbat_gui.core.analysis.analyse import RecordingAnalysed, RecordingFailed
from bsgbat_gui.core.analysis.pipeline import analyse_recordings
from bsgbat_gui.core.analysis.thresholds import ThresholdSettings, preset_json
from bsgbat_gui.core.export.formats import export_survey
from bsgbat_gui.core.models.ensemble import Ensemble
from bsgbat_gui.core.models.locate import read_model_set
from bsgbat_gui.core.review.analysis_cache import StoreCache
from bsgbat_gui.core.review.connection import StoreError, StoreReadOnly
from bsgbat_gui.core.review.decisions import (
    STATUS_CONFIRMED,
    STATUS_REJECTED,
    Decision,
    RecordingReview,
)
from bsgbat_gui.core.review.survey import load_survey, recording_rows
from bsgbat_gui.core.session.recordings import (
    CHANGED_REVIEW,
    STATUS_DONE,
    STATUS_FAILED,
    STATUS_NOT_ANALYSED,
    STATUS_QUEUED,
)
from bsgbat_gui.core.session.selection import SelectedEvent
from bsgbat_gui.core.session.survey_session import SurveySession

THRESHOLD = 0.2  # the band-energy test models give plenty of events on real calls at 0.2

NAMES = ("Nyctalus_leisleri", "20180627_215323-RHIFER", "Kuhls-pipistrelle")


@pytest.fixture
def night(tmp_path: Path) -> Path:
    """A survey folder of three real recordings and one file that is not audio."""
    folder = tmp_path / "night"
    folder.mkdir()
    for name in NAMES:
        source = real_recording(name)
        shutil.copy(source, folder / source.name)
    (folder / "broken.wav").write_bytes(b"RIFF\x04\x00\x00\x00WAVE")
    return folder


def analyse_into(session: SurveySession, model_set_dir: Path) -> None:
    """What the window's analysis worker does: the pipeline, with the store as its cache."""
    model_set = read_model_set(model_set_dir)
    assert session.store is not None
    cache = StoreCache(session.store, model_set)
    paths = session.unanalysed()
    session.queue(paths)
    for event in analyse_recordings(paths, Ensemble(model_set), cache=cache):
        if isinstance(event, RecordingAnalysed):
            session.add_analysis(event.analysis, from_cache=event.from_cache)
        elif isinstance(event, RecordingFailed):
            session.failed(event.path, event.reason)


def thresholds(session: SurveySession) -> np.ndarray:
    return np.full(len(session.labels), THRESHOLD)


def opened(folder: Path) -> SurveySession:
    session = SurveySession()
    found = SurveySession.find([folder])
    session.open(found)
    session.open_store([folder])
    return session


def test_a_folder_is_opened_analysed_reviewed_and_reopened(
    night: Path, model_set_dir: Path, tmp_path: Path
) -> None:
    session = opened(night)
    assert [p.name for p in session.opened.recordings] == sorted(
        [*(real_recording(n).name for n in NAMES), "broken.wav"]
    )
    assert all(r.status == STATUS_QUEUED for r in session.recordings)
    assert session.store is not None
    assert session.store.path == night / "bsgbat-review.sqlite"
    assert session.can_write
    assert session.store_text() == f"Review store: {night / 'bsgbat-review.sqlite'}"

    analyse_into(session, model_set_dir)
    broken = session.recordings.row_for(night.resolve() / "broken.wav")
    assert broken is not None
    assert broken.status == STATUS_FAILED
    assert broken.reason
    assert session.recordings.count(STATUS_DONE) == 3
    assert session.unanalysed() == [broken.path]

    detections = session.refresh_detections(thresholds(session))
    assert len(detections.events) > 3
    assert all(session.decision_of_event(i) is None for i in range(len(detections.events)))
    first, second = 0, 1
    path = detections.paths[int(detections.recording_index[first])]
    row = session.recordings.row_for(path)
    assert row is not None
    assert row.species  # the species column: what was found there
    assert row.events_total == int(
        (detections.recording_index == detections.paths.index(path)).sum()
    )
    assert row.events_reviewed == 0
    assert session.undecided_count(path) == row.events_total

    progress: list[tuple[list[int], str]] = []
    session.recordings.changed.connect(lambda rows, what: progress.append((rows, what)))
    decided: list[int] = []
    session.decisions_changed.connect(lambda: decided.append(1))
    events = detections.events
    label = session.labels[int(events.label_index[first])]
    decision = session.replace_decision(
        None,
        Decision(path, label, float(events.start_s[first]), float(events.end_s[first]),
                 STATUS_CONFIRMED, final_species=label, reviewer="tester"),
    )  # fmt: skip
    assert decision is not None
    assert decision.id is not None
    assert decided == [1]
    assert session.decision_of_event(first) == decision
    row = session.recordings.row_for(path)  # a snapshot of the row as it stands now
    assert row is not None
    assert row.events_reviewed == 1  # the row's progress, said to the view
    assert (list(progress[-1][0]), progress[-1][1]) == (
        [session.recordings.index_of(path)],
        CHANGED_REVIEW,
    )
    assert session.undecided_count(path) == row.events_total - 1
    # Replacing it keeps its id (one decision per event).
    rejected = session.replace_decision(
        decision, replace(decision, status=STATUS_REJECTED, id=None)
    )
    assert rejected is not None
    assert rejected.id == decision.id
    assert [d.status for d in session.decisions] == [STATUS_REJECTED]
    session.set_recording_review(path, RecordingReview(reviewed=True))
    row = session.recordings.row_for(path)
    assert row is not None
    assert row.marked_reviewed
    assert row.review_state == "reviewed"

    # Thresholds and the selection, kept for the next time.
    selected = SelectedEvent(
        path, label, float(events.start_s[second]), float(events.end_s[second])
    )
    settings = ThresholdSettings(thresholds=dict.fromkeys(session.labels, THRESHOLD))
    session.save_view(preset_json(settings, session.labels), selected)
    session.save_survey_species(("Nyctalus leisleri",))
    exported = session.survey_for_export(settings)
    assert exported is not None
    session.close()
    assert session.store is None

    # Reopened: nothing analysed again, everything decided is back.
    again = opened(night)
    assert again.pending_selection == selected
    assert again.survey_species == ("Nyctalus leisleri",)
    assert again.stored_thresholds == preset_json(settings, again.labels or session.labels)
    assert [d.id for d in again.decisions] == [decision.id]
    assert again.recording_review(path).reviewed
    model_set = read_model_set(model_set_dir)
    assert again.store is not None
    cache = StoreCache(again.store, model_set)
    for event in analyse_recordings(again.unanalysed(), lambda: Ensemble(model_set), cache=cache):
        if isinstance(event, RecordingAnalysed):
            assert event.from_cache
            again.add_analysis(event.analysis, from_cache=True)
    again.refresh_detections(thresholds(again))
    assert again.take_pending_selection() == selected
    assert again.take_pending_selection() is None  # restored once
    again_row = again.recordings.row_for(path)
    assert again_row is not None
    assert again_row.from_cache
    assert again_row.events_reviewed == 1

    # The window's export and the export command's read of the store write the same file.
    from_store, problems = load_survey(again.store)
    assert problems == []
    from_session = again.survey_for_export(from_store.settings)
    assert from_session is not None
    written = []
    for k, survey in enumerate((from_store, from_session, exported)):
        out = tmp_path / f"export{k}.csv"
        export_survey("csv", out, recording_rows(survey), scope="all")
        written.append(out.read_bytes())
    assert written[0] == written[1] == written[2]
    assert len(written[0].splitlines()) > 3
    again.close()


def test_without_a_store_nothing_is_lost_silently(night: Path, tmp_path: Path) -> None:
    (night / "bsgbat-review.sqlite").write_text("my notes, not a database")
    session = opened(night)
    assert session.store is None
    assert "not a review store" in session.store_problem
    assert session.store_text() == "⚠ No review store: decisions are not saved"
    assert not session.can_write
    decision = Decision(next(iter(session.opened.recordings)), "x", 0.0, 1.0, STATUS_CONFIRMED)
    with pytest.raises(StoreError, match="not a review store"):
        session.replace_decision(None, decision)
    assert session.decisions == []
    session.save_view("{}", None)  # nothing to save it into: no error, nothing written
    assert (night / "bsgbat-review.sqlite").read_text() == "my notes, not a database"


def test_a_second_session_reads_a_store_in_use_read_only(night: Path) -> None:
    first = opened(night)
    second = opened(night)
    assert second.store is not None
    assert second.store.read_only
    assert "READ-ONLY: another bsgbat-gui window is using it" in second.store_text()
    decision = Decision(next(iter(second.opened.recordings)), "x", 0.0, 1.0, STATUS_CONFIRMED)
    with pytest.raises(StoreReadOnly):
        second.replace_decision(None, decision)
    assert second.decisions == []
    second.close()
    first.close()


def test_a_read_only_folder_keeps_its_store_in_the_user_data_folder(
    night: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_access = os.access
    folder = night.resolve()
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == folder else real_access(p, mode)
    )  # root writes anywhere; pretend the survey folder is read-only
    session = opened(night)
    assert session.store is not None
    assert folder not in session.store.path.parents
    assert session.store_is_fallback
    assert "(the folder is read-only)" in session.store_text()
    session.close()


def test_unanalysed_recordings_and_files_not_opened_are_said(night: Path) -> None:
    (night / "notes.txt").write_text("not a recording")
    bad_name = night / os.fsdecode(b"bad\xffname.wav")  # not UTF-8: cannot be stored
    shutil.copy(real_recording("Nyctalus_leisleri"), bad_name)
    session = opened(night)
    assert any(
        "bad\\xffname.wav: its name is not valid UTF-8" in p for p in session.opened.problems
    )
    assert session.not_opened_text().startswith("; not opened: ")
    session.mark_unanalysed("no classifier installed")
    assert {r.status for r in session.recordings} == {STATUS_NOT_ANALYSED}
    assert {r.reason for r in session.recordings} == {"no classifier installed"}
    session.close()
