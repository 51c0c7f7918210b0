"""The survey report's numbers: every table and figure of ``bsgbat-gui report``, before HTML.

:func:`survey_report` gathers them from a survey's rows; :func:`report_numbers` is the same as
plain JSON-able data (the golden test pins it); :mod:`~bsgbat_gui.core.evaluation.report_html`
draws it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bsgbat_gui import __version__
from bsgbat_gui.core.evaluation.night_activity import (
    BIN_MINUTES,
    NightActivity,
    Position,
    night_activity,
)
from bsgbat_gui.core.evaluation.sampling import (
    METHOD_SAMPLE,
    PrecisionEstimate,
    VerificationSample,
    estimate_precision,
    population,
    precision_from_decisions,
)
from bsgbat_gui.core.model_card import MODEL_ATTRIBUTION
from bsgbat_gui.core.review.decisions import DECISION_STATUSES
from bsgbat_gui.core.review.survey import NIGHT_UNKNOWN, night_of, select_rows, summarise
from bsgbat_gui.core.species import species_for_label

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from bsgbat_gui.core.review.survey import DetectionRow, RecordingRows, Survey

REPORT_NUMBERS_FORMAT = "bsgbat-report-numbers"
REPORT_NUMBERS_VERSION = 1
NO_REVIEWER = "(no name)"


@dataclass(frozen=True)
class SpeciesLine:
    """One row of the species table."""

    species: str
    common_name: str
    detections: int  # events at the thresholds, any status
    verified: int  # confirmed as, or relabelled to, this species
    rejected: int  # events of this species rejected
    precision: PrecisionEstimate


@dataclass(frozen=True)
class SampleStatus:
    """The queued verification sample: how it was drawn and how far its review got."""

    size: int
    decided: int  # sampled detections with a decision
    missing: int  # sampled detections these thresholds no longer make
    per_stratum: int
    seed: int
    edges: tuple[float, ...]
    created_at: str


@dataclass(frozen=True)
class SurveyReport:
    """Everything the survey report shows."""

    title: str
    generated_at: str
    app_version: str
    recordings: int
    reviewed_recordings: int
    nights: tuple[str, ...]  # night dates with recordings ("unknown" last)
    species: tuple[SpeciesLine, ...]
    activity: NightActivity
    combine: str
    thresholds: tuple[tuple[str, float, bool], ...]  # (label, threshold, excluded)
    model_sets: tuple[tuple[str, int], ...]  # (model set identity, recordings)
    reviewers: tuple[tuple[str, int], ...]  # (reviewer, decisions)
    sample: SampleStatus | None
    citation: str = MODEL_ATTRIBUTION
    problems: tuple[str, ...] = ()
    positions: Mapping[str, Position] = field(default_factory=dict)  # given per folder


def survey_report(
    survey: Survey,
    recordings: Sequence[RecordingRows],
    *,
    title: str = "Bat survey",
    positions: Mapping[str, Position] | None = None,
    sample: VerificationSample | None = None,
    problems: Sequence[str] = (),
    bin_minutes: int = BIN_MINUTES,
    generated_at: str = "",
) -> SurveyReport:
    """The report of ``survey`` (its rows: ``recordings``), with the sites placed by
    ``positions`` (per folder, for recordings without a GUANO position) and the precision from
    ``sample`` when one was drawn (else from all decisions, marked as such).
    """
    all_rows = [row for rec in recordings for row in rec.rows]
    counts = {c.species: c for c in summarise(recordings).species}
    if sample is not None:
        estimates = estimate_precision(all_rows, sample)
    else:
        estimates = precision_from_decisions(all_rows)
    species = []
    for name in sorted(set(counts) | set(estimates)):
        c = counts.get(name)
        estimate = estimates.get(name) or PrecisionEstimate(name, 0, 0, 0, None, None, None, "none")
        species.append(
            SpeciesLine(
                name,
                species_for_label(name).common_name,
                c.detections if c else 0,
                c.confirmed if c else 0,
                c.rejected if c else 0,
                estimate,
            )
        )
    nights = {night_of(rec.recording.analysis.info.metadata.timestamp) for rec in recordings}
    nights |= {night_of(r.absolute_start) for r in select_rows(recordings, "all")}
    model_sets: dict[str, int] = {}
    for rec in recordings:
        model_sets[rec.recording.model_set_id] = model_sets.get(rec.recording.model_set_id, 0) + 1
    reviewers: dict[str, int] = {}
    for decision in survey.decisions:
        name = decision.reviewer or NO_REVIEWER
        reviewers[name] = reviewers.get(name, 0) + 1
    settings = survey.settings
    return SurveyReport(
        title=title,
        generated_at=generated_at
        or dt.datetime.now().astimezone().replace(microsecond=0).isoformat(),
        app_version=__version__,
        recordings=len(recordings),
        reviewed_recordings=sum(rec.reviewed for rec in recordings),
        nights=tuple(sorted(nights, key=lambda n: (n == NIGHT_UNKNOWN, n))),
        species=tuple(species),
        activity=night_activity(recordings, positions, bin_minutes=bin_minutes),
        combine=settings.combine,
        thresholds=tuple(
            (label, settings.threshold(label), label in settings.excluded)
            for label in survey.labels
        ),
        model_sets=tuple(sorted(model_sets.items())),
        reviewers=tuple(sorted(reviewers.items(), key=lambda kv: (-kv[1], kv[0]))),
        sample=_sample_status(sample, all_rows),
        problems=tuple(problems),
        positions=dict(positions or {}),
    )


def _sample_status(
    sample: VerificationSample | None, rows: Sequence[DetectionRow]
) -> SampleStatus | None:
    if sample is None:
        return None
    by_recording: dict[tuple[Path, str], list[DetectionRow]] = {}
    for row in population(rows):
        by_recording.setdefault((row.path, row.species_auto), []).append(row)
    decided = missing = 0
    for key in sample.keys:
        candidates = by_recording.get((key.path, key.species), [])
        match = next((r for r in candidates if key.matches(r)), None)
        if match is None:
            missing += 1
        elif match.status in DECISION_STATUSES:
            decided += 1
    return SampleStatus(
        len(sample.keys), decided, missing, sample.per_stratum, sample.seed, sample.edges,
        sample.created_at,
    )  # fmt: skip


def is_sampled(line: SpeciesLine) -> bool:
    """Whether the line's precision comes from a verification sample."""
    return line.precision.method == METHOD_SAMPLE


# -- as plain data --------------------------------------------------------------------------------


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def report_numbers(report: SurveyReport) -> dict[str, Any]:
    """The report's tables as JSON-able data (no generation time, no app version: what the
    golden test compares).
    """
    activity = report.activity
    return {
        "format": REPORT_NUMBERS_FORMAT,
        "version": REPORT_NUMBERS_VERSION,
        "survey": {
            "recordings": report.recordings,
            "reviewed_recordings": report.reviewed_recordings,
            "nights": list(report.nights),
            "sites": len(activity.sites),
            "placed_passes": activity.placed_passes,
            "unplaced_passes": activity.unplaced_passes,
        },
        "sites": [
            {
                "name": s.name,
                "latitude": s.latitude,
                "longitude": s.longitude,
                "position_source": s.position_source,
                "folders": list(s.folders),
                "recordings": s.recordings,
                "nights": list(s.nights),
                "detections": s.detections,
                "verified": s.verified,
                "species_detected": list(s.species_detected),
                "species_verified": list(s.species_verified),
            }
            for s in activity.sites
        ],
        "species": [
            {
                "species": line.species,
                "detections": line.detections,
                "verified": line.verified,
                "rejected": line.rejected,
                "method": line.precision.method,
                "decided": line.precision.decided,
                "confirmed": line.precision.confirmed,
                "precision": _r(line.precision.precision),
                "low": _r(line.precision.low),
                "high": _r(line.precision.high),
                "true_passes": _r(line.precision.true_passes, 2),
                "strata": [
                    [s.low, s.high, s.detections, s.sampled, s.decided, s.confirmed]
                    for s in line.precision.strata
                ],
            }
            for line in report.species
        ],
        "activity": [
            [a.species, a.reference, a.minute, a.detections, a.verified] for a in activity.activity
        ],
        "nights": [[n.site, n.night, n.species, n.detections, n.verified] for n in activity.nights],
        "emergence": [
            [
                e.site,
                e.night,
                e.species,
                e.sunset,
                e.sunrise,
                e.first_detected_min,
                e.last_detected_min,
                e.first_verified_min,
                e.last_verified_min,
            ]
            for e in activity.emergence
        ],
        "unplaced": [[u.reason, u.folder, list(u.recordings)] for u in activity.unplaced],
        "combine": report.combine,
        "thresholds": [[label, t, excluded] for label, t, excluded in report.thresholds],
        "model_sets": [list(m) for m in report.model_sets],
        "reviewers": [list(r) for r in report.reviewers],
        "sample": None
        if report.sample is None
        else {
            "size": report.sample.size,
            "decided": report.sample.decided,
            "missing": report.sample.missing,
            "per_stratum": report.sample.per_stratum,
            "seed": report.sample.seed,
            "edges": list(report.sample.edges),
        },
        "problems": list(report.problems),
    }
