"""A reviewed survey as rows: every detection event (or decision) with its review, and summaries.

The window and ``bsgbat-gui export`` build the same :class:`Survey` — from the analyses the window
holds, or from the review store — so a file written from either is the same file.

Scopes (nested: verified ⊂ detections ⊂ all):

* ``verified``: events confirmed or relabelled by a reviewer;
* ``detections``: every event at the current thresholds that was not rejected (unreviewed ones
  included, with their status);
* ``all``: also the rejected ones.

A decision stays in the rows even when the current thresholds no longer make its event (it was
made on what the reviewer saw): such a row takes its span from the decision, its probabilities
from the windows inside that span.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bsgbat_gui import __version__
from bsgbat_gui.core.analysis.detections import detection_events, window_bounds
from bsgbat_gui.core.analysis.thresholds import ThresholdSettings, load_preset, parse_preset
from bsgbat_gui.core.audio.metadata import plausible_timestamp
from bsgbat_gui.core.calls.summary import CallSummary, summarise_calls
from bsgbat_gui.core.review.decisions import (
    STATUS_CONFIRMED,
    STATUS_REJECTED,
    STATUS_RELABELLED,
    Decision,
    RecordingReview,
    attach_decisions,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from pathlib import Path

    from bsgbat_gui.core.analysis.analyse import RecordingAnalysis
    from bsgbat_gui.core.audio.recording import RecordingInfo
    from bsgbat_gui.core.calls.parameters import CallTable
    from bsgbat_gui.core.review.store import ReviewStore

STATUS_UNREVIEWED = "unreviewed"
ROW_STATUSES = (STATUS_CONFIRMED, STATUS_RELABELLED, STATUS_REJECTED, STATUS_UNREVIEWED)
SCOPES = ("verified", "detections", "all")
RECORDING_SCOPES = ("all", "reviewed")
_STATUSES_IN_SCOPE = {
    "verified": {STATUS_CONFIRMED, STATUS_RELABELLED},
    "detections": {STATUS_CONFIRMED, STATUS_RELABELLED, STATUS_UNREVIEWED},
    "all": set(ROW_STATUSES),
}
MODEL_SET_SHORT_HASH_CHARS = 12
# A window lies inside a decision's span when it starts and ends within it, to this tolerance
# (spans are window bounds, stored as floats).
_SPAN_TOLERANCE_S = 1e-6
NIGHT_UNKNOWN = "unknown"
NO_BATS_LABEL = "noise"  # what a "no bats" recording holds, for GUANO (code Noise)


@dataclass(frozen=True)
class SurveyRecording:
    """One analysed recording of a survey, with the model set that analysed it, its review, and
    its calls when they were measured (with the survey's call settings).
    """

    analysis: RecordingAnalysis
    model_set_id: str = ""
    review: RecordingReview = field(default_factory=RecordingReview)
    calls: CallTable | None = None

    @property
    def path(self) -> Path:
        """The recording's path."""
        return self.analysis.info.path


@dataclass(frozen=True)
class Survey:
    """What an export needs: recordings (with their analyses), thresholds, decisions."""

    recordings: tuple[SurveyRecording, ...]
    settings: ThresholdSettings
    decisions: tuple[Decision, ...] = ()
    labels: tuple[str, ...] = ()

    @staticmethod
    def of(
        recordings: Iterable[SurveyRecording],
        settings: ThresholdSettings,
        decisions: Iterable[Decision] = (),
    ) -> Survey:
        """A survey of ``recordings`` (sorted by path; labels from the first analysis)."""
        ordered = tuple(sorted(recordings, key=lambda r: str(r.path)))
        labels = ordered[0].analysis.labels if ordered else ()
        return Survey(ordered, settings, tuple(decisions), labels)


@dataclass(frozen=True)
class DetectionRow:
    """One exported detection: an event at the current thresholds and/or a review decision.

    Times in real seconds from the recording's start; ``max_prob``/``mean_prob`` are None for a
    decision whose species the models do not have.
    """

    path: Path
    time_expansion: float
    recording_start: dt.datetime | None
    latitude: float | None
    longitude: float | None
    start_s: float
    end_s: float
    species_auto: str
    max_prob: float | None
    mean_prob: float | None
    n_segments: int
    threshold: float
    combine: str
    status: str
    species_final: str
    reviewer: str
    reviewed_at: str
    note: str
    model_set: str
    app_version: str = __version__
    is_event: bool = True  # False: a decision the current thresholds no longer make an event
    # The calls that start in the detection's span; None when the recording's calls were not
    # measured (an empty summary is a measurement that found none).
    calls: CallSummary | None = None

    @property
    def absolute_start(self) -> dt.datetime | None:
        """When the detection began (recording start + offset), if known."""
        if self.recording_start is None:
            return None
        return shifted(self.recording_start, self.start_s / 3600)


@dataclass(frozen=True)
class RecordingRows:
    """A recording and its rows (in time order, then species)."""

    recording: SurveyRecording
    rows: tuple[DetectionRow, ...]
    detected_segments: Mapping[str, int]  # species -> segments in its events (current thresholds)
    fully_decided: bool  # every event at the current thresholds has a decision

    @property
    def reviewed(self) -> bool:
        """Marked reviewed or "no bats", or every event decided."""
        review = self.recording.review
        return review.reviewed or review.no_bats or (self.fully_decided and bool(self.rows))


def recording_start(info: RecordingInfo) -> dt.datetime | None:
    """When the recording started, if its metadata says so plausibly (an absurd recorder date
    kept by an older version is no date).
    """
    moment = info.metadata.timestamp
    return moment if moment is not None and plausible_timestamp(moment) else None


def short_model_set(model_set_id: str) -> str:
    """The first hex digits of a model-set identity, with its ``-int8`` mark if quantised."""
    suffix = "-int8" if model_set_id.endswith("-int8") else ""
    return model_set_id[:MODEL_SET_SHORT_HASH_CHARS] + suffix


def load_survey(store: ReviewStore, preset: Path | None = None) -> tuple[Survey, list[str]]:
    """The survey a store holds: its latest analysis of each recording, its decisions and marks,
    and its thresholds (the ``preset`` file's if given, else those the window saved).

    Returns the survey and the problems met (recordings that could not be rebuilt, a preset with
    unknown species…), one line each. Raises ``PresetError`` for an unusable ``preset``.
    """
    problems: list[str] = []
    analyses = list(_stored_analyses(store, problems))
    labels = analyses[0][0].labels if analyses else ()
    mixed = [a.info.path for a, _ in analyses if a.labels != labels]
    if mixed:
        problems.append(_mixed_labels_problem(len(mixed), mixed[0]))
    settings = _thresholds(store, preset, labels, problems)
    reviews = store.recording_reviews()
    calls = store.stored_calls(store.call_settings())
    recordings = [
        SurveyRecording(
            a, set_id, reviews.get(a.info.path, RecordingReview()), calls.get(a.info.path)
        )
        for a, set_id in analyses
        if a.labels == labels
    ]
    return Survey.of(recordings, settings, store.decisions()), problems


@dataclass
class SurveyStream:
    """A store's survey read one recording at a time: what :func:`load_survey` gives, with the
    recordings' rows produced by :meth:`recording_rows` as they are read, so that an export of
    a season holds one recording's analysis and rows at a time, not the season's.

    :attr:`problems` grows while the rows are read (recordings that cannot be rebuilt or that
    another model set analysed are found on the way).
    """

    survey: Survey  # its settings, labels and decisions; no recordings
    problems: list[str]
    _analyses: Iterator[tuple[RecordingAnalysis, str]]
    _reviews: Mapping[Path, RecordingReview]
    _calls: Mapping[Path, CallTable]

    def recording_rows(self, *, decided_only: bool = False) -> Iterator[RecordingRows]:
        """Every recording's rows (all statuses), in the order :func:`recording_rows` gives
        them for :func:`load_survey`'s survey; once. ``decided_only``: only the recordings with
        a decision (the only ones with a verified row): a season's verified export does not
        build rows for the 95 % nobody reviewed.
        """
        survey = self.survey
        by_path = decisions_by_path(survey.decisions)
        mixed: list[Path] = []
        for analysis, set_id in self._analyses:
            if analysis.labels != survey.labels:
                mixed.append(analysis.info.path)
                continue
            path = analysis.info.path
            if decided_only and path not in by_path:
                continue
            recording = SurveyRecording(
                analysis, set_id, self._reviews.get(path, RecordingReview()), self._calls.get(path)
            )
            yield _rows_of_recording(survey, recording, by_path.get(path, []))
        if mixed:
            self.problems.append(_mixed_labels_problem(len(mixed), mixed[0]))


def stream_survey(store: ReviewStore, preset: Path | None = None) -> SurveyStream:
    """:func:`load_survey`, read one recording at a time (see :class:`SurveyStream`). Raises
    ``PresetError`` for an unusable ``preset`` (before any row is produced).
    """
    problems: list[str] = []
    analyses = _stored_analyses(store, problems)
    first = next(analyses, None)
    labels = first[0].labels if first is not None else ()
    settings = _thresholds(store, preset, labels, problems)
    survey = Survey((), settings, tuple(store.decisions()), labels)
    return SurveyStream(
        survey,
        problems,
        itertools.chain([first] if first is not None else [], analyses),
        store.recording_reviews(),
        store.stored_calls(store.call_settings()),
    )


def _stored_analyses(
    store: ReviewStore, problems: list[str]
) -> Iterator[tuple[RecordingAnalysis, str]]:
    """The store's analyses in path order; those that cannot be rebuilt are problems."""
    for path, set_id, analysis in store.stored_analyses():
        if isinstance(analysis, str):
            problems.append(f"{path}: {analysis}")
        else:
            yield analysis, set_id


def _mixed_labels_problem(count: int, first: Path) -> str:
    return (
        f"{count} recording(s) analysed by a model set with other labels: left out (first: {first})"
    )


def _thresholds(
    store: ReviewStore, preset: Path | None, labels: tuple[str, ...], problems: list[str]
) -> ThresholdSettings:
    """The ``preset`` file's thresholds if given, else those the window saved, else defaults."""
    if preset is not None:
        loaded = load_preset(preset, labels)
        problems.extend(f"{preset}: {p}" for p in loaded.problems)
        return loaded.settings
    if saved := store.get_meta("thresholds"):
        loaded = parse_preset(saved, labels)
        problems.extend(f"saved thresholds: {p}" for p in loaded.problems)
        return loaded.settings
    return ThresholdSettings()


def recording_rows(survey: Survey) -> list[RecordingRows]:
    """Every recording's rows, all statuses (filter with :func:`select_rows`)."""
    by_path = decisions_by_path(survey.decisions)
    return [
        _rows_of_recording(survey, recording, by_path.get(recording.path, []))
        for recording in survey.recordings
    ]


def decisions_by_path(decisions: Iterable[Decision]) -> dict[Path, list[Decision]]:
    """``decisions`` grouped by recording, in their order."""
    by_path: dict[Path, list[Decision]] = {}
    for decision in decisions:
        by_path.setdefault(decision.path, []).append(decision)
    return by_path


class RecordingRowsCache:
    """:func:`recording_rows` for a survey that changes a little at a time.

    The window's export and reliability panels rebuild the rows after every settled change; on
    a night of thousands of recordings that is a few hundred milliseconds on the GUI thread, yet
    a decision changes one recording's rows and a threshold only those of recordings whose
    probabilities reach it. A recording's rows are rebuilt only when something they depend on
    changed: its analysis, model set or review mark, its decisions, the combine method, or the
    threshold of a label its probabilities reach (a threshold above a label's highest
    probability makes no event, whatever its value) or that one of its decisions names.
    """

    def __init__(self) -> None:
        self._entries: dict[Path, tuple[tuple[object, ...], RecordingRows]] = {}

    def recording_rows(self, survey: Survey) -> list[RecordingRows]:
        """Every recording's rows, rebuilt only where an input changed."""
        by_path = decisions_by_path(survey.decisions)
        thresholds = survey.settings.array_for(survey.labels)
        entries: dict[Path, tuple[tuple[object, ...], RecordingRows]] = {}
        for recording in survey.recordings:
            decisions = by_path.get(recording.path, [])
            key = _rows_key(survey, recording, decisions, thresholds)
            cached = self._entries.get(recording.path)
            if cached is not None and cached[0] == key:
                rows = cached[1]
            else:
                rows = _rows_of_recording(survey, recording, decisions)
            entries[recording.path] = (key, rows)
        self._entries = entries  # recordings no longer in the survey are forgotten
        return [entries[recording.path][1] for recording in survey.recordings]


def _rows_key(
    survey: Survey,
    recording: SurveyRecording,
    decisions: list[Decision],
    thresholds: npt.NDArray[np.float64],
) -> tuple[object, ...]:
    """Everything :func:`_rows_of_recording` reads for ``recording``. The analysis and the calls
    by identity: the cached rows hold them, so their ids cannot pass to others while cached.
    """
    combine = survey.settings.combine
    probabilities = recording.analysis.probabilities(combine)
    # As find_runs compares: at the probabilities' precision.
    reached = thresholds.astype(probabilities.dtype) <= probabilities.max(axis=0, initial=-1.0)
    named = {d.species for d in decisions}
    relevant = tuple(
        float(t) if reached[i] or label in named else None
        for i, (label, t) in enumerate(zip(survey.labels, thresholds, strict=True))
    )
    return (
        id(recording.analysis), recording.model_set_id, recording.review, tuple(decisions),
        combine, survey.labels, relevant, id(recording.calls),
    )  # fmt: skip


def select_recordings(
    recordings: Sequence[RecordingRows], which: str = "all"
) -> list[RecordingRows]:
    """All recordings, or only the reviewed ones (see :data:`RECORDING_SCOPES`)."""
    if which not in RECORDING_SCOPES:
        raise ValueError(f"unknown recordings {which!r}; one of {', '.join(RECORDING_SCOPES)}")
    return [rec for rec in recordings if which == "all" or rec.reviewed]


def select_rows(
    recordings: Sequence[RecordingRows], scope: str = "verified", which: str = "all"
) -> list[DetectionRow]:
    """The rows in ``scope`` (see :data:`SCOPES`) of all or only reviewed recordings."""
    if scope not in _STATUSES_IN_SCOPE:
        raise ValueError(f"unknown scope {scope!r}; one of {', '.join(SCOPES)}")
    statuses = _STATUSES_IN_SCOPE[scope]
    return [
        row
        for rec in select_recordings(recordings, which)
        for row in rec.rows
        if row.status in statuses
    ]


def rows_by_path(rows: Sequence[DetectionRow]) -> dict[Path, list[DetectionRow]]:
    """``rows`` grouped by recording, in their order."""
    grouped: dict[Path, list[DetectionRow]] = {}
    for row in rows:
        grouped.setdefault(row.path, []).append(row)
    return grouped


def _rows_of_recording(
    survey: Survey, recording: SurveyRecording, decisions: list[Decision]
) -> RecordingRows:
    analysis = recording.analysis
    labels = survey.labels
    settings = survey.settings
    thresholds = settings.array_for(labels)
    probabilities = analysis.probabilities(settings.combine)
    events = detection_events(probabilities, analysis.windows, thresholds, labels)
    event_labels = [labels[int(i)] for i in events.label_index]
    attached = attach_decisions(
        [recording.path] * len(events), event_labels, events.start_s, events.end_s, decisions
    )
    info = analysis.info
    template = DetectionRow(
        path=recording.path,
        time_expansion=info.time_expansion,
        recording_start=recording_start(info),
        latitude=info.metadata.latitude,
        longitude=info.metadata.longitude,
        start_s=0.0,
        end_s=0.0,
        species_auto="",
        max_prob=None,
        mean_prob=None,
        n_segments=0,
        threshold=float("nan"),
        combine=settings.combine,
        status=STATUS_UNREVIEWED,
        species_final="",
        reviewer="",
        reviewed_at="",
        note="",
        model_set=short_model_set(recording.model_set_id),
    )
    rows: list[DetectionRow] = []
    detected_segments: dict[str, int] = {}
    n_segments = events.n_segments
    for i, label in enumerate(event_labels):
        detected_segments[label] = detected_segments.get(label, 0) + int(n_segments[i])
        row = replace(
            template,
            start_s=float(events.start_s[i]),
            end_s=float(events.end_s[i]),
            species_auto=label,
            max_prob=float(events.max_prob[i]),
            mean_prob=float(events.mean_prob[i]),
            n_segments=int(n_segments[i]),
            threshold=float(thresholds[events.label_index[i]]),
        )
        rows.append(_with_review(row, decisions[attached[i]] if attached[i] >= 0 else None))
    # Decisions that no current event carries: kept, with what the models say over their span.
    used = {int(k) for k in attached if k >= 0}
    starts, ends = window_bounds(analysis.windows)
    for k, decision in enumerate(decisions):
        if k in used:
            continue
        inside = (starts >= decision.start_s - _SPAN_TOLERANCE_S) & (
            ends <= decision.end_s + _SPAN_TOLERANCE_S
        )
        max_prob = mean_prob = None
        threshold = float("nan")
        if decision.species in labels:
            j = labels.index(decision.species)
            threshold = float(thresholds[j])
            values = probabilities[inside, j].astype(np.float64)
            if len(values):
                max_prob, mean_prob = float(values.max()), float(values.mean())
        row = replace(
            template,
            start_s=decision.start_s,
            end_s=decision.end_s,
            species_auto=decision.species,
            max_prob=max_prob,
            mean_prob=mean_prob,
            n_segments=int(inside.sum()),
            threshold=threshold,
            is_event=False,
        )
        rows.append(_with_review(row, decision))
    if recording.calls is not None:
        calls = recording.calls
        rows = [replace(r, calls=summarise_calls(calls, r.start_s, r.end_s)) for r in rows]
    label_order = {label: i for i, label in enumerate(labels)}
    rows.sort(key=lambda r: (r.start_s, label_order.get(r.species_auto, len(labels)), r.end_s))
    return RecordingRows(
        recording, tuple(rows), detected_segments, fully_decided=bool((attached >= 0).all())
    )


def _with_review(row: DetectionRow, decision: Decision | None) -> DetectionRow:
    if decision is None:
        return row
    final = decision.final_species if decision.status != STATUS_REJECTED else ""
    if decision.status == STATUS_CONFIRMED and not final:
        final = decision.species
    return replace(
        row,
        status=decision.status,
        species_final=final,
        reviewer=decision.reviewer,
        reviewed_at=decision.decided_at,
        note=decision.note,
    )


# -- summaries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeciesCounts:
    """One species' counts in a summary."""

    species: str
    detections: int = 0  # events at the current thresholds with this automatic species
    confirmed: int = 0  # confirmed as, or relabelled to, this species
    rejected: int = 0  # events of this automatic species rejected
    recordings_confirmed: int = 0  # recordings with at least one confirmed detection


@dataclass(frozen=True)
class SurveySummary:
    """Per species for the whole survey, and per night (noon to noon, recorder's local time)."""

    species: tuple[SpeciesCounts, ...]
    nights: tuple[tuple[str, tuple[SpeciesCounts, ...]], ...]  # (night date or "unknown", counts)


def shifted(moment: dt.datetime, hours: float) -> dt.datetime | None:
    """``moment`` moved by ``hours``; None where the calendar ends (an absurd recorder date)."""
    try:
        return moment + dt.timedelta(hours=hours)
    except OverflowError:
        return None


def night_of(moment: dt.datetime | None) -> str:
    """The night a moment belongs to, named by the date of its evening: noon to noon."""
    evening = shifted(moment, -12) if moment is not None else None
    return NIGHT_UNKNOWN if evening is None else evening.date().isoformat()


def summarise(recordings: Sequence[RecordingRows], which: str = "all") -> SurveySummary:
    """Counts per species for the survey and per night (noon to noon)."""
    rows = select_rows(recordings, "all", which)
    survey_counts = _count(rows)
    by_night: dict[str, list[DetectionRow]] = {}
    for row in rows:
        by_night.setdefault(night_of(row.absolute_start), []).append(row)
    nights = tuple(
        (night, _count(by_night[night]))
        for night in sorted(by_night, key=lambda n: (n == NIGHT_UNKNOWN, n))
    )
    return SurveySummary(survey_counts, nights)


def _count(rows: Sequence[DetectionRow]) -> tuple[SpeciesCounts, ...]:
    detections: dict[str, int] = {}
    confirmed: dict[str, int] = {}
    rejected: dict[str, int] = {}
    confirmed_in: dict[str, set[Path]] = {}
    for row in rows:
        if row.is_event:
            detections[row.species_auto] = detections.get(row.species_auto, 0) + 1
        if row.status in (STATUS_CONFIRMED, STATUS_RELABELLED):
            confirmed[row.species_final] = confirmed.get(row.species_final, 0) + 1
            confirmed_in.setdefault(row.species_final, set()).add(row.path)
        elif row.status == STATUS_REJECTED:
            rejected[row.species_auto] = rejected.get(row.species_auto, 0) + 1
    species = sorted(set(detections) | set(confirmed) | set(rejected))
    return tuple(
        SpeciesCounts(
            s,
            detections.get(s, 0),
            confirmed.get(s, 0),
            rejected.get(s, 0),
            len(confirmed_in.get(s, ())),
        )
        for s in species
    )
