"""The open survey: what the window shows, held without Qt.

A :class:`SurveySession` is opened on paths (a folder, files); it holds

* the recordings and where each one stands (:class:`~bsgbat_gui.core.session.recordings.
  RecordingList`): queued, analysing, done (from the cache or not), failed; species found;
  review progress;
* every analysis, and the detection events at the current thresholds with the decision
  attached to each event (:meth:`SurveySession.refresh_detections`);
* the survey's review store, its decisions and recording marks, mirrored in memory and written
  through (a decision is on disk when :meth:`SurveySession.replace_decision` returns);
* the current recording, the selection to restore on reopening, the survey species list and
  the thresholds the store kept;
* the calls measured in its recordings and the call settings the survey keeps
  (:meth:`SurveySession.calls_of`, :meth:`SurveySession.keep_calls`);
* the survey as the export sees it (:meth:`SurveySession.survey_for_export`).

The window (``gui/``) shows this state and turns keys and clicks into calls on it; tests drive
it directly. Store writes raise :data:`STORE_WRITE_ERRORS`: the caller says what was not saved
and keeps working.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from psygnal import Signal

from bsgbat_gui.core.analysis.stacked import StackedAnalyses
from bsgbat_gui.core.audio.recording import display_path, find_recordings, name_problem
from bsgbat_gui.core.calls.settings import CallSettings
from bsgbat_gui.core.checklist import SURVEY_SPECIES_META
from bsgbat_gui.core.evaluation.night_activity import PositionError
from bsgbat_gui.core.evaluation.sampling import (
    SampleError,
    load_sample,
    sample_mask,
    save_sample,
)
from bsgbat_gui.core.evaluation.site_positions import load_site_positions, save_site_positions
from bsgbat_gui.core.files import canonical_path, canonical_paths
from bsgbat_gui.core.heap import HeapTrimmer
from bsgbat_gui.core.review.connection import StoreError
from bsgbat_gui.core.review.decisions import RecordingReview, attach_decisions_indexed
from bsgbat_gui.core.review.locations import default_store_path, survey_folder, writable_store_path
from bsgbat_gui.core.review.store import ReviewStore
from bsgbat_gui.core.review.survey import Survey, SurveyRecording
from bsgbat_gui.core.session.recordings import (
    STATUS_ANALYSING,
    STATUS_CODE,
    STATUS_DONE,
    STATUS_FAILED,
    STATUS_NOT_ANALYSED,
    STATUS_QUEUED,
    RecordingList,
    species_masks,
)
from bsgbat_gui.core.session.selection import (
    SELECTION_META,
    SelectedEvent,
    selection_from_json,
    selection_to_json,
    species_from_json,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from bsgbat_gui.core.analysis.analyse import RecordingAnalysis
    from bsgbat_gui.core.analysis.detections import SurveyDetections
    from bsgbat_gui.core.analysis.stacked import AnalysisBlock
    from bsgbat_gui.core.analysis.thresholds import ThresholdSettings
    from bsgbat_gui.core.audio.recording import RecordingInfo
    from bsgbat_gui.core.calls.parameters import CallTable
    from bsgbat_gui.core.evaluation.night_activity import Position
    from bsgbat_gui.core.evaluation.sampling import VerificationSample
    from bsgbat_gui.core.review.decision_import import Change
    from bsgbat_gui.core.review.decisions import Decision

log = logging.getLogger(__name__)

STORE_WRITE_ERRORS = (sqlite3.Error, OSError, StoreError)  # what a store write may raise
THRESHOLDS_META = "thresholds"  # the review store's meta key: the thresholds preset (JSON)


@dataclass(frozen=True)
class _DecisionColumns:
    """The session's decisions as columns, for matching them to events."""

    keys: npt.NDArray[np.int64]
    starts_s: npt.NDArray[np.float64]
    ends_s: npt.NDArray[np.float64]


@dataclass(frozen=True)
class OpenedPaths:
    """The recordings found in the paths a user opened, and the files that cannot be opened
    (one line each: name and reason).
    """

    paths: tuple[Path, ...]
    recordings: tuple[Path, ...]
    problems: tuple[str, ...] = field(default=())


class SurveySession:
    """The open survey's state (see the module's description).

    Signals (psygnal)
    -----------------
    store_changed()
        Another review store (or none) is in use: decisions, marks and kept settings replaced.
    decisions_changed()
        A decision or recording mark changed (stored, undone, imported).
    detections_changed()
        The detection events were found again (new analyses, thresholds, combine method).
    calls_changed(path)
        The calls of the recording at ``path`` were measured (or found in the store).
    """

    store_changed = Signal()
    decisions_changed = Signal()
    detections_changed = Signal()
    calls_changed = Signal(object)

    def __init__(self) -> None:
        self.recordings = RecordingList()
        self.recordings.analysis_of = self.analysis_of
        self.analyses = StackedAnalyses()  # every analysed recording, for the detection events
        self.detections: SurveyDetections | None = None
        # Per event of :attr:`detections`: the index into :attr:`decisions` of its decision, -1.
        self.attached: npt.NDArray[np.intp] = np.empty(0, dtype=np.intp)
        self.opened: OpenedPaths | None = None
        self.current_path: Path | None = None
        self.pending_selection: SelectedEvent | None = None  # restored once its events exist
        self.store: ReviewStore | None = None
        self.store_problem = ""  # why no store is open, when one could not be
        self.decisions: list[Decision] = []
        self.recording_reviews: dict[Path, RecordingReview] = {}
        self.survey_species: tuple[str, ...] | None = None  # as the store kept it
        self.sample: VerificationSample | None = None  # the verification sample queued
        self.sample_problem = ""  # why the store's sample is not used, when it is not
        # The last sample mask, for the sample and the events it was found for.
        self._sample_mask: (
            tuple[VerificationSample, SurveyDetections, npt.NDArray[np.bool_]] | None
        ) = None
        # Positions given to folders without a GUANO one (absolute path -> lat, lon).
        self.site_positions: dict[str, Position] = {}
        self.stored_thresholds: str | None = None  # the preset JSON the store kept
        self.call_settings = CallSettings()  # the survey's (the store's, once one is open)
        self._calls: dict[Path, CallTable] = {}  # measured with call_settings, by path
        self._heap = HeapTrimmer()
        # The last logits read back from the store: ((path, model set), [models, windows, labels]).
        self._last_logits: tuple[tuple[Path, str], npt.NDArray[np.float32]] | None = None
        # Derived from the detections' stack, kept while it stays the same (see _attach).
        self._slot_rows: tuple[object, npt.NDArray[np.intp]] | None = None
        self._decision_columns: tuple[object, object, _DecisionColumns] | None = None
        self._marks_version = 0  # bumped when a recording's marks change
        self._marks_cache: tuple[object, npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None = None

    # -- opening -------------------------------------------------------------------------------

    @staticmethod
    def find(paths: Sequence[Path]) -> OpenedPaths:
        """The recordings in ``paths`` (folders searched recursively), made canonical once here
        so that every path the session holds compares equal to the review store's (decisions
        are matched to events on every threshold change). A file whose name cannot be shown or
        kept, or a link loop, is a problem with its reason, like any unreadable file.
        """
        found, problems = find_recordings(list(paths))
        usable = []
        for path in found:
            problem = name_problem(path)
            if problem is None:
                usable.append(path)
            else:
                problems.append(f"{display_path(path)}: {problem}")
        recordings = canonical_paths(usable)
        for problem in problems:
            log.warning("not opened: %s", problem)
        return OpenedPaths(tuple(paths), tuple(recordings), tuple(problems))

    def open(self, opened: OpenedPaths) -> None:
        """Show ``opened``'s recordings (all queued), forgetting the previous survey's analyses;
        the review store is opened by :meth:`open_store`.
        """
        self.opened = opened
        self.current_path = None
        self.analyses.clear()
        self.detections = None
        self.attached = np.empty(0, dtype=np.intp)
        self.recordings.set_paths(opened.recordings, STATUS_QUEUED)

    def not_opened_text(self) -> str:
        """The files of the opened paths that could not be opened at all, for the status line
        (said as long as the survey is open: they are in no row).
        """
        problems = self.opened.problems if self.opened is not None else ()
        if not problems:
            return ""
        more = f" (and {len(problems) - 1} more: see the log)" if len(problems) > 1 else ""
        return f"; not opened: {problems[0]}{more}"

    # -- the review store ------------------------------------------------------------------------

    def open_store(self, paths: Sequence[Path]) -> None:
        """Open the review store of ``paths``' survey: in the survey folder, or in the user
        data folder when that one is read-only. When it cannot be opened, :attr:`store` is None
        and :attr:`store_problem` says why (decisions are then not saved, and every decision
        says so).
        """
        path = writable_store_path(paths)
        root = survey_folder(paths)
        try:
            store = ReviewStore.open(path, survey_root=None if path.parent == root else root)
        except StoreError as exc:
            self.set_store(None, problem=str(exc))
            return
        self.set_store(store)

    def set_store(self, store: ReviewStore | None, *, problem: str = "") -> None:
        """Review into ``store`` (closing the previous one); None with the ``problem`` that kept
        a store from opening. Its decisions, marks and kept settings are read at once.
        """
        if self.store is not None and self.store is not store:
            self.store.close()
        self.store = store
        self.store_problem = problem if store is None else ""
        self.decisions = store.decisions() if store is not None else []
        self.recording_reviews = store.recording_reviews() if store is not None else {}
        self.stored_thresholds = store.get_meta(THRESHOLDS_META) if store is not None else None
        self.survey_species = (
            species_from_json(store.get_meta(SURVEY_SPECIES_META)) if store is not None else None
        )
        self.pending_selection = (
            selection_from_json(store.get_meta(SELECTION_META), store)
            if store is not None
            else None
        )
        self.call_settings = store.call_settings() if store is not None else CallSettings()
        self.sample, self.sample_problem = None, ""
        self.site_positions = {}
        if store is not None:
            try:
                self.sample = load_sample(store)
            except SampleError as exc:
                self.sample_problem = f"the verification sample kept is not used: {exc}"
            try:
                self.site_positions = load_site_positions(store)
            except PositionError as exc:
                log.warning("%s: %s", store.path, exc)
        self._calls.clear()
        self._last_logits = None
        self._attach()
        self.store_changed.emit()
        self.decisions_changed.emit()

    def keep_sample(self, sample: VerificationSample) -> None:
        """Queue ``sample`` for review: kept in the store (replacing the one before). Raises
        :data:`STORE_WRITE_ERRORS` (nothing changes then).
        """
        if self.store is None or self.store.read_only:
            raise StoreError("no writable review store: the sample cannot be kept")
        save_sample(self.store, sample)
        self.sample, self.sample_problem = sample, ""

    def set_site_position(self, folder: Path, position: Position | None) -> None:
        """Give ``folder``'s recordings without a GUANO position this one (None: forget it),
        kept in the store. Raises :data:`STORE_WRITE_ERRORS` (nothing changes then).
        """
        if self.store is None or self.store.read_only:
            raise StoreError("no writable review store: the position cannot be kept")
        positions = dict(self.site_positions)
        if position is None:
            positions.pop(str(folder), None)
        else:
            positions[str(folder)] = position
        save_site_positions(self.store, positions)
        self.site_positions = positions

    def sample_mask(self) -> npt.NDArray[np.bool_] | None:
        """Which of the current events are in the queued sample (None: no sample)."""
        if self.sample is None or self.detections is None:
            return None
        kept = self._sample_mask
        if kept is None or kept[0] is not self.sample or kept[1] is not self.detections:
            mask = sample_mask(self.sample, self.detections, self.labels)
            kept = self._sample_mask = (self.sample, self.detections, mask)
        return kept[2]

    @property
    def can_write(self) -> bool:
        """A store is open for writing (not read-only, not missing)."""
        return self.store is not None and not self.store.read_only

    @property
    def store_is_fallback(self) -> bool:
        """The store is kept in the user data folder (the survey folder is read-only)."""
        if self.store is None or self.opened is None or not self.opened.paths:
            return False
        return self.store.path != default_store_path(list(self.opened.paths))

    def store_text(self) -> str:
        """Where decisions go, for the status bar (with why, when not where expected)."""
        if self.store is None:
            return "⚠ No review store: decisions are not saved"
        where = f"Review store: {self.store.path}"
        if self.store_is_fallback:
            where += " (the folder is read-only)"
        if self.store.read_only:
            where += " — READ-ONLY: another bsgbat-gui window is using it"
        return where

    def close(self) -> None:
        """Close the review store (every decision is already committed)."""
        self.set_store(None)

    # -- the analysis ------------------------------------------------------------------------------

    def queue(self, paths: Sequence[Path]) -> None:
        """These recordings wait for the analysis."""
        self.recordings.set_status(self.recordings.rows_of(paths), STATUS_QUEUED)

    def started(self, path: Path, info: RecordingInfo) -> None:
        """The analysis of ``path`` started."""
        self.recordings.update(path, status=STATUS_ANALYSING, info=info, progress=0.0)

    def progressed(self, path: Path, fraction: float) -> None:
        """The analysis of ``path`` is ``fraction`` (0..1) done."""
        self.recordings.update(path, progress=fraction)

    def add_analysis(self, analysis: RecordingAnalysis, *, from_cache: bool = False) -> None:
        """A recording's analysis arrived (run now or read from the store). Its detection
        events are found by the next :meth:`refresh_detections` (once per burst of results).
        """
        path = analysis.info.path
        self._labels_from(analysis.labels)
        self._last_logits = None
        self.analyses.add(analysis)
        self.recordings.update(path, status=STATUS_DONE, info=analysis.info, from_cache=from_cache)

    def add_block(self, block: AnalysisBlock, *, from_cache: bool = True) -> None:
        """The analyses of many recordings arrived at once (read from the review store)."""
        self._labels_from(block.labels)
        self._last_logits = None  # a path read again may hold another analysis now
        self.analyses.add_block(block)
        # Loading a season from the store (and finding its events after each burst) frees
        # hundreds of MB in pieces: given back while it loads, not during the review after.
        self._heap.trim_soon()
        self.recordings.set_analysed(
            self.recordings.rows_of(block.paths),
            duration_s=block.duration_s,
            true_rate_hz=block.true_rate_hz,
            time_expansion=block.time_expansion,
            from_cache=from_cache,
        )

    def _labels_from(self, labels: tuple[str, ...]) -> None:
        if labels != self.analyses.labels:
            self.recordings.set_labels(labels)

    def analysis_of(self, path: Path) -> RecordingAnalysis | None:
        """The analysis of ``path`` (None before it is analysed), described by its header:
        the one read to show it, else the one the review store kept with the analysis.
        """
        if path not in self.analyses:
            return None
        i = self.recordings.index_of(path)
        info = self.recordings.info_of(i) if i is not None else None
        if info is None and self.store is not None:
            try:
                info = self.store.recording_info(path)
            except (sqlite3.Error, OSError) as exc:
                log.warning("%s: cannot read the header kept: %s", self.store.path, exc)
            if info is not None:
                self.recordings.keep_info(path, info)
        return self.analyses.analysis_of(path, info, self._stored_logits)

    def _stored_logits(self, path: Path, model_set_id: str) -> npt.NDArray[np.float32] | None:
        """The logits the review store keeps for ``path`` (a block read from it holds only
        probabilities): one indexed row, read when the recording is shown.
        """
        if self.store is None:
            return None
        last = self._last_logits
        if last is not None and last[0] == (path, model_set_id):
            return last[1]  # the shown recording asked again (tracks, then shading)
        try:
            logits = self.store.stored_logits([path], model_set_id).get(path)
        except (sqlite3.Error, OSError) as exc:
            log.warning("%s: cannot read the analysis kept: %s", self.store.path, exc)
            return None
        self._last_logits = ((path, model_set_id), logits) if logits is not None else None
        return logits

    def all_analyses(self, paths: Sequence[Path] | None = None) -> list[RecordingAnalysis]:
        """Every analysis (or those of ``paths``) as one object each, for dialogs that work on
        whole analyses. Those held only as probabilities get their logits and header from the
        store, 500 recordings per query (one query each took twice as long on a season).
        """
        wanted = list(self.analyses.paths if paths is None else paths)
        kept = self._stored_records(wanted)
        found: list[RecordingAnalysis] = []
        for path in wanted:
            record = kept.get(path)
            if record is None:
                analysis = self.analysis_of(path)
            else:
                i = self.recordings.index_of(path)
                shown = self.recordings.info_of(i) if i is not None else None
                analysis = self.analyses.analysis_of(path, shown or record[0], _kept(record[1]))
            if analysis is not None:
                found.append(analysis)
        return found

    def _stored_records(
        self, paths: Sequence[Path]
    ) -> dict[Path, tuple[RecordingInfo, npt.NDArray[np.float32]]]:
        by_set: dict[str, list[Path]] = {}
        for path in paths:
            model_set = self.analyses.stored_model_set(path)
            if model_set is not None:
                by_set.setdefault(model_set, []).append(path)
        kept: dict[Path, tuple[RecordingInfo, npt.NDArray[np.float32]]] = {}
        if self.store is None or not by_set:
            return kept
        try:
            for model_set, part in by_set.items():
                kept.update(self.store.stored_records(part, model_set))
        except (sqlite3.Error, OSError) as exc:
            log.warning("%s: cannot read the analyses kept: %s", self.store.path, exc)
        return kept

    def failed(self, path: Path, reason: str) -> None:
        """The analysis of ``path`` failed, for ``reason``."""
        self.recordings.update(path, status=STATUS_FAILED, reason=reason)

    def described(self, path: Path, info: RecordingInfo) -> None:
        """The header of ``path`` is known (read for its spectrogram before its analysis)."""
        i = self.recordings.index_of(path)
        if i is not None and self.recordings.info_of(i) is None:
            self.recordings.update(path, info=info)

    def mark_unanalysed(self, reason: str = "") -> None:
        """The queued and running recordings will not be analysed (cancelled, no classifier)."""
        rows = self.recordings.rows_with_status(STATUS_QUEUED, STATUS_ANALYSING)
        self.recordings.set_status(rows, STATUS_NOT_ANALYSED, reason)

    def unanalysed(self) -> list[Path]:
        """The recordings without an analysis (to analyse once a model set is there)."""
        recordings = self.recordings
        undone = np.flatnonzero(recordings.status != STATUS_CODE[STATUS_DONE])
        return [recordings.paths[i] for i in undone.tolist()]

    # -- detections --------------------------------------------------------------------------------

    @property
    def labels(self) -> tuple[str, ...]:
        """The model set's labels, as the analyses hold them (empty before the first)."""
        return self.analyses.labels

    def refresh_detections(self, thresholds: npt.ArrayLike) -> SurveyDetections:
        """Find every analysed recording's events at ``thresholds`` (in :attr:`labels` order),
        attach the decisions to them and update each recording's species and review progress
        (array operations over the whole survey: a season's ~1 M events, 100,000 recordings).
        """
        previous, previous_attached = self.detections, self.attached
        d, reused = self.analyses.detections_after(thresholds, previous)
        self.detections = d
        slots = species_masks(d.recording_index, d.events.label_index, len(d.paths))
        masks = np.zeros(len(self.recordings), dtype=np.uint64)
        rows = self._rows_of_slots(d)
        alive = rows >= 0
        masks[rows[alive]] = slots[alive]
        self.recordings.set_species_masks(masks)
        # Kept events keep their decisions (attached against today's decisions: any change of
        # a decision attaches everything again); only the new ones are matched.
        if (
            reused is not None
            and previous is not None
            and (len(previous_attached) == len(previous.events))
        ):
            self._attach(reused=reused, previous=previous_attached)
        else:
            self._attach()
        self.detections_changed.emit()
        return d

    def _rows_of_slots(self, d: SurveyDetections) -> npt.NDArray[np.intp]:
        """The recordings-list row of each of ``d.paths`` (-1: a replaced analysis' old one),
        kept while the stack of analyses stays the same.
        """
        if self._slot_rows is None or self._slot_rows[0] is not d.paths:
            rows = self.recordings.rows_of(d.paths)
            index = d.index or {}
            dead = [k for k, p in enumerate(d.paths) if index.get(p, k) != k]
            rows[dead] = -1
            self._slot_rows = (d.paths, rows)
        return self._slot_rows[1]

    def _decision_columns_of(self, d: SurveyDetections) -> _DecisionColumns:
        """The decisions as :func:`attach_decisions_indexed` takes them: each one's key (its
        recording's index into ``d.paths`` × labels + its species' index; -1 when either is not
        held) and span, kept while the decisions and the stack stay the same.
        """
        cached = self._decision_columns
        if cached is not None and cached[0] is self.decisions and cached[1] is d.paths:
            return cached[2]
        decisions = self.decisions
        n_labels = len(self.labels)
        label_of = {label: k for k, label in enumerate(self.labels)}
        keys = np.full(len(decisions), -1, dtype=np.int64)
        for k, decision in enumerate(decisions):
            slot = d.index_of(decision.path)
            label = label_of.get(decision.species)
            if slot is not None and label is not None:
                keys[k] = slot * n_labels + label
        columns = _DecisionColumns(
            keys,
            np.fromiter((x.start_s for x in decisions), np.float64, len(decisions)),
            np.fromiter((x.end_s for x in decisions), np.float64, len(decisions)),
        )
        self._decision_columns = (decisions, d.paths, columns)
        return columns

    def _attach(
        self,
        *,
        reused: npt.NDArray[np.intp] | None = None,
        previous: npt.NDArray[np.intp] | None = None,
    ) -> None:
        """Attach the decisions to the events; with ``reused`` (each event's index in the
        previous detections, -1: new) and the ``previous`` attachment, only the new events are
        matched (the decisions have not changed since).
        """
        d = self.detections
        if d is None or not len(d.events) or not self.decisions:
            self.attached = np.full(len(d.events) if d is not None else 0, -1, dtype=np.intp)
        else:
            decided = self._decision_columns_of(d)
            new = np.arange(len(d.events)) if reused is None else np.flatnonzero(reused < 0)
            attached = np.full(len(d.events), -1, dtype=np.intp)
            if reused is not None and previous is not None:
                kept = reused >= 0
                attached[kept] = previous[reused[kept]]
            attached[new] = attach_decisions_indexed(
                d.recording_index[new].astype(np.int64) * len(self.labels)
                + d.events.label_index[new],
                d.events.start_s[new],
                d.events.end_s[new],
                decided.keys,
                decided.starts_s,
                decided.ends_s,
            )
            self.attached = attached
        self._update_review_progress()

    def _update_review_progress(self) -> None:
        recordings = self.recordings
        n = len(recordings)
        reviewed, total = np.zeros(n, np.int64), np.zeros(n, np.int64)
        d = self.detections
        if d is not None and len(d.paths):
            rows = self._rows_of_slots(d)
            slots = len(d.paths)
            per_slot_total = np.bincount(d.recording_index, minlength=slots)
            per_slot_done = np.bincount(
                d.recording_index, weights=self.attached >= 0, minlength=slots
            ).astype(np.int64)
            alive = rows >= 0
            total[rows[alive]] = per_slot_total[alive]
            reviewed[rows[alive]] = per_slot_done[alive]
        marked, no_bats = self._marks()
        recordings.set_review_columns(reviewed, total, marked, no_bats)

    def _marks(self) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """Per recording: marked reviewed, marked 'no bats' (kept until the marks change)."""
        key = (self._marks_version, len(self.recordings), id(self.recording_reviews))
        if self._marks_cache is None or self._marks_cache[0] != key:
            n = len(self.recordings)
            marked, no_bats = np.zeros(n, bool), np.zeros(n, bool)
            for path, review in self.recording_reviews.items():
                if review.reviewed or review.no_bats:
                    i = self.recordings.index_of(path)
                    if i is not None:
                        marked[i], no_bats[i] = review.reviewed, review.no_bats
            self._marks_cache = (key, marked, no_bats)
        return self._marks_cache[1].copy(), self._marks_cache[2].copy()

    def decision_of_event(self, event: int) -> Decision | None:
        """The decision attached to event ``event`` of :attr:`detections`, if any."""
        if not 0 <= event < len(self.attached):
            return None
        k = int(self.attached[event])
        return self.decisions[k] if k >= 0 else None

    def undecided_count(self, path: Path) -> int:
        """How many of ``path``'s detection events have no decision."""
        d = self.detections
        index = d.index_of(path) if d is not None else None
        if d is None or index is None or len(self.attached) != len(d.recording_index):
            return 0
        mine = d.recording_index == index
        return int((self.attached[mine] < 0).sum())

    # -- decisions ---------------------------------------------------------------------------------

    def replace_decision(self, old: Decision | None, new: Decision | None) -> Decision | None:
        """Write ``new`` in place of ``old`` (None: no decision) into the store, and mirror it;
        returns ``new`` as stored (with its id). Raises :data:`STORE_WRITE_ERRORS` (then nothing
        changed).
        """
        store = self._writable_store()
        if new is None:
            if old is not None and old.id is not None:
                store.delete_decision(old.id)
        else:
            if new.id is None and old is not None:
                new = replace(new, id=old.id)
            new = store.put_decision(new)
        gone = {d.id for d in (old, new) if d is not None and d.id is not None}
        self.decisions = [d for d in self.decisions if d.id not in gone]
        if new is not None:
            self.decisions.append(new)
            self.decisions.sort(key=lambda d: d.id or 0)  # by id, as the store lists them
        self._decisions_changed()
        return new

    def apply_changes(self, changes: Sequence[Change]) -> list[Decision | None]:
        """Replace each ``before`` by its ``after``, all in one transaction (an import is in the
        store entirely or not at all); returns the stored ``after`` decisions. Raises
        :data:`STORE_WRITE_ERRORS` (then nothing changed).
        """
        store = self._writable_store()
        stored = store.apply_changes(changes)
        self.decisions = store.decisions()
        self._decisions_changed()
        return stored

    def recording_review(self, path: Path) -> RecordingReview:
        """The marks of one recording (none when never marked)."""
        return self.recording_reviews.get(path, RecordingReview())

    def set_recording_review(self, path: Path, review: RecordingReview) -> None:
        """Mark a recording (reviewed, no bats, species list); committed on return. Raises
        :data:`STORE_WRITE_ERRORS`.
        """
        self._writable_store().set_recording_review(path, review)
        self.recording_reviews[path] = review
        self._marks_version += 1
        self._decisions_changed()

    def _writable_store(self) -> ReviewStore:
        if self.store is None:
            raise StoreError(self.store_problem or "no review store is open")
        return self.store  # a read-only store refuses the write itself (StoreReadOnly)

    def _decisions_changed(self) -> None:
        self._attach()
        self.decisions_changed.emit()

    # -- what a reopened survey restores -----------------------------------------------------------

    def save_view(self, thresholds_json: str, selected: SelectedEvent | None) -> None:
        """Keep the thresholds preset and the selection in the store (nothing without a
        writable store). Raises :data:`STORE_WRITE_ERRORS`.
        """
        if not self.can_write:
            return
        assert self.store is not None
        self.store.set_meta(THRESHOLDS_META, thresholds_json)
        self.stored_thresholds = thresholds_json
        if selected is not None:
            self.store.set_meta(SELECTION_META, selection_to_json(selected, self.store))

    def save_survey_species(self, species: tuple[str, ...] | None) -> None:
        """Keep the survey species list (None: no list) in the store. Raises
        :data:`STORE_WRITE_ERRORS`.
        """
        self.survey_species = species
        if self.can_write:
            assert self.store is not None
            self.store.set_meta(
                SURVEY_SPECIES_META, json.dumps(list(species) if species is not None else None)
            )

    def take_pending_selection(self) -> SelectedEvent | None:
        """The selection to restore, once its recording's events are there (then forgotten)."""
        wanted = self.pending_selection
        if wanted is None or self.detections is None or wanted.path not in self.detections:
            return None
        self.pending_selection = None
        return wanted

    # -- calls --------------------------------------------------------------------------------

    def calls_of(self, info: RecordingInfo) -> CallTable | None:
        """The calls of ``info``'s recording measured with the survey's call settings: held
        already, or kept in the store for this file (a read, no measuring); None when they
        still have to be measured.
        """
        path = canonical_path(info.path)
        held = self._calls.get(path)
        if held is not None or self.store is None:
            return held
        try:
            cached = self.store.cached_calls(info, self.call_settings)
        except (sqlite3.Error, OSError) as exc:
            log.warning("%s: cannot read the call measurements: %s", self.store.path, exc)
            return None
        if cached is not None:
            self._calls[path] = cached
            self.calls_changed.emit(path)
        return cached

    def held_calls(self, path: Path) -> CallTable | None:
        """The calls of the recording at ``path`` already held (no store read): what views
        redrawn often (the status bar, the calls panel) show.
        """
        return self._calls.get(canonical_path(path))

    def keep_calls(
        self,
        info: RecordingInfo,
        settings: CallSettings,
        calls: CallTable,
        content_sha256: str,
        *,
        stored: bool = False,
    ) -> None:
        """Hold the calls measured in ``info``'s recording and keep them in the store (unless
        the process that measured them ``stored`` them there already). A measurement made with
        other settings than the survey's (changed meanwhile) is dropped. Store writes raise
        :data:`STORE_WRITE_ERRORS` after the calls are held.
        """
        if settings != self.call_settings:
            return
        path = canonical_path(info.path)
        self._calls[path] = calls
        self.calls_changed.emit(path)
        if self.can_write and not stored:
            assert self.store is not None
            self.store.save_calls(info, settings, calls, content_sha256)

    def set_call_settings(self, settings: CallSettings) -> None:
        """Measure calls with ``settings`` from now on (kept in the store); the calls measured
        with the old ones are let go.
        """
        if settings == self.call_settings:
            return
        self.call_settings = settings
        self._calls.clear()
        if self.can_write:
            assert self.store is not None
            self.store.set_call_settings(settings)

    # -- export ------------------------------------------------------------------------------------

    def survey_for_export(
        self, settings: ThresholdSettings, *, decided_only: bool = False
    ) -> Survey | None:
        """The open survey as the export sees it: every analysis held, these thresholds, every
        decision and recording mark (None before the first analysis). ``decided_only``: only
        the recordings with a decision (what the reliability panel reads: a season's 5 %, not
        100,000 analyses built on the GUI thread).
        """
        if decided_only:
            decided = {d.path for d in self.decisions}
            analyses = self.all_analyses([p for p in self.analyses.paths if p in decided])
        else:
            analyses = self.all_analyses()
        if not analyses:
            return None
        try:
            model_sets = (
                self.store.analysis_model_sets([a.info.path for a in analyses])
                if self.store is not None
                else {}
            )
        except (sqlite3.Error, OSError):  # unreadable store: the export says model_set unknown
            model_sets = {}
        recordings = [
            SurveyRecording(
                a, model_sets.get(a.info.path, ""), self.recording_review(a.info.path),
                self._calls.get(canonical_path(a.info.path)),
            )
            for a in analyses
        ]  # fmt: skip
        return Survey.of(recordings, settings, self.decisions)


def _kept(
    logits: npt.NDArray[np.float32],
) -> Callable[[Path, str], npt.NDArray[np.float32] | None]:
    """A stored-logits reader that gives the logits already read."""
    return lambda _path, _model_set: logits
