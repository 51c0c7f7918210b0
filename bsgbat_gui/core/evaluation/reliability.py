"""What the review says about the detections: per-species reliability and threshold advice.

Every decided event (confirmed, rejected, relabelled) is one labelled example of its *detected*
species: its score is the event's maximum probability, its outcome is "confirmed" (the species
was right) or not (rejected, or relabelled to another species). From those examples:

* a **reliability table**: decided events by probability bin, the confirmed fraction per bin;
* **precision at a threshold**: confirmed / decided among the decided events scoring at least the
  threshold, with a Wilson 95 % interval (honest at small counts and at 0 or 100 %);
* a **logistic calibration** ``P(confirmed) = sigmoid(a + b·logit(score))`` per species, fitted by
  Newton's method (the scaling coefficient and intercept BriteKit's ``calibrate`` reports);
* **threshold advice**: the lowest threshold at which both the calibrated estimate and the
  measured precision on the decisions reach a target (default 0.9). The measured condition
  means the advice can never be a threshold the decisions themselves contradict.

Too few decisions say nothing: under :data:`MIN_DECISIONS`, or without
:data:`MIN_EACH_OUTCOME` of each outcome, there is no calibration and no advice, only a warning.

The decided events are the ones the reviewer chose to look at, usually the more probable ones:
the estimate describes events like those reviewed, which is why the advice also states how many
decisions it rests on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.analysis.thresholds import THRESHOLD_STEP
from bsgbat_gui.core.review.decisions import DECISION_STATUSES, STATUS_CONFIRMED

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bsgbat_gui.core.review.survey import DetectionRow

MIN_DECISIONS = 10
MIN_EACH_OUTCOME = 3
DEFAULT_TARGET_PRECISION = 0.9
DEFAULT_BIN_EDGES = np.round(np.linspace(0.0, 1.0, 11), 10)
_LOGIT_CLIP = 1e-6
_RIDGE = 1e-3  # keeps the fit finite when the decisions separate perfectly

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ReviewedScores:
    """The decided events of one detected species: score (max probability) and outcome."""

    species: str
    scores: FloatArray
    confirmed: BoolArray

    @property
    def n(self) -> int:
        """How many decided events."""
        return len(self.scores)

    @property
    def n_confirmed(self) -> int:
        """How many of them were confirmed."""
        return int(self.confirmed.sum())

    @property
    def enough(self) -> bool:
        """Enough decisions, of both outcomes, to calibrate and advise."""
        return (
            self.n >= MIN_DECISIONS
            and self.n_confirmed >= MIN_EACH_OUTCOME
            and self.n - self.n_confirmed >= MIN_EACH_OUTCOME
        )

    @property
    def warning(self) -> str:
        """Why the numbers are not to be trusted yet (too few decisions), or ""."""
        if self.enough:
            return ""
        return (
            f"too few decisions to say anything ({self.n}: {self.n_confirmed} confirmed, "
            f"{self.n - self.n_confirmed} not); needs {MIN_DECISIONS}, with "
            f"{MIN_EACH_OUTCOME} of each"
        )


def reviewed_scores(rows: Iterable[DetectionRow]) -> dict[str, ReviewedScores]:
    """The decided events in ``rows`` (see :func:`~bsgbat_gui.core.review.survey.recording_rows`) by
    detected species. Decisions on species the models do not have (no score) are left out.
    """
    by_species: dict[str, tuple[list[float], list[bool]]] = {}
    for row in rows:
        if row.status not in DECISION_STATUSES or row.max_prob is None:
            continue
        scores, outcomes = by_species.setdefault(row.species_auto, ([], []))
        scores.append(float(row.max_prob))
        outcomes.append(row.status == STATUS_CONFIRMED)
    return {
        species: ReviewedScores(species, np.array(s, np.float64), np.array(o, np.bool_))
        for species, (s, o) in sorted(by_species.items())
    }


# -- reliability and precision --------------------------------------------------------------------


@dataclass(frozen=True)
class ReliabilityBin:
    """Decided events in one probability bin, and the confirmed ones."""

    low: float
    high: float
    n: int
    n_confirmed: int

    @property
    def fraction(self) -> float:
        """The confirmed share of the bin (NaN when empty)."""
        return self.n_confirmed / self.n if self.n else math.nan


def reliability_bins(
    reviewed: ReviewedScores, edges: FloatArray = DEFAULT_BIN_EDGES
) -> list[ReliabilityBin]:
    """Decided events per probability bin ``[low, high)`` (the last bin includes 1.0)."""
    index = np.clip(np.searchsorted(edges, reviewed.scores, side="right") - 1, 0, len(edges) - 2)
    return [
        ReliabilityBin(
            float(edges[k]),
            float(edges[k + 1]),
            int((index == k).sum()),
            int(reviewed.confirmed[index == k].sum()),
        )
        for k in range(len(edges) - 1)
    ]


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a proportion (95 % by default); (0, 1) when ``n`` is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Precision:
    """Precision at a threshold over the decided events, with its Wilson interval."""

    threshold: float
    n: int  # decided events scoring at least the threshold
    n_confirmed: int
    low: float  # Wilson 95 % interval
    high: float

    @property
    def value(self) -> float:
        """The confirmed share (NaN when no decided event reaches the threshold)."""
        return self.n_confirmed / self.n if self.n else math.nan


def at_or_above(scores: FloatArray, threshold: float) -> BoolArray:
    """The event rule's comparison (float32, like :mod:`~bsgbat_gui.core.analysis.detections`)."""
    reached: BoolArray = np.asarray(scores, np.float32) >= np.float32(threshold)
    return reached


def precision_at(reviewed: ReviewedScores, threshold: float) -> Precision:
    """Precision of the decided events at or above ``threshold``."""
    kept = at_or_above(reviewed.scores, threshold)
    n, confirmed = int(kept.sum()), int(reviewed.confirmed[kept].sum())
    return Precision(threshold, n, confirmed, *wilson_interval(confirmed, n))


# -- calibration ----------------------------------------------------------------------------------


def logit(p: FloatArray) -> FloatArray:
    """``log(p / (1 - p))``, with p kept inside (0, 1)."""
    q = np.clip(np.asarray(p, np.float64), _LOGIT_CLIP, 1 - _LOGIT_CLIP)
    return np.log(q) - np.log1p(-q)


def _sigmoid(x: FloatArray) -> FloatArray:
    # float64, overflow-free: Newton's method needs both (ensemble.sigmoid is the float32 one)
    return np.exp(-np.logaddexp(0.0, -x))


@dataclass(frozen=True)
class Calibration:
    """``P(confirmed | score) = sigmoid(intercept + slope · logit(score))``."""

    intercept: float
    slope: float
    n: int

    def confirmed_probability(self, scores: FloatArray) -> FloatArray:
        """The calibrated probability that events with these scores are confirmed."""
        return _sigmoid(self.intercept + self.slope * logit(scores))


def fit_calibration(reviewed: ReviewedScores, *, max_iterations: int = 100) -> Calibration:
    """Logistic regression of the outcome on logit(score), by Newton's method (IRLS) with a
    small ridge penalty so perfectly separated decisions still give a finite, steep fit.
    """
    x = logit(reviewed.scores)
    y = reviewed.confirmed.astype(np.float64)
    design = np.column_stack([np.ones_like(x), x])
    beta = np.zeros(2)
    for _ in range(max_iterations):
        p = _sigmoid(design @ beta)
        gradient = design.T @ (y - p) - _RIDGE * beta
        weights = np.maximum(p * (1 - p), 1e-12)
        hessian = (design * weights[:, None]).T @ design + _RIDGE * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return Calibration(float(beta[0]), float(beta[1]), reviewed.n)


# -- advice ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdAdvice:
    """The suggested threshold for a target precision, and why (or why none)."""

    species: str
    target: float
    threshold: float | None  # None: no advice (see reason)
    estimated_precision: float  # calibrated, over the decided events at or above the threshold
    measured: Precision | None
    calibration: Calibration | None
    reason: str  # why there is no advice, or what it rests on


def advise_threshold(
    reviewed: ReviewedScores, target: float = DEFAULT_TARGET_PRECISION
) -> ThresholdAdvice:
    """The lowest threshold (in :data:`THRESHOLD_STEP` s, as the window sets them) whose
    calibrated *and* measured precision on the decided events reach ``target``.

    The candidates are each decided score rounded down to the step: any threshold between two
    candidates keeps the same decided events as the next candidate up.
    """
    if not reviewed.enough:
        return ThresholdAdvice(reviewed.species, target, None, math.nan, None, None,
                               reviewed.warning)  # fmt: skip
    calibration = fit_calibration(reviewed)
    calibrated = calibration.confirmed_probability(reviewed.scores)
    candidates = np.unique(np.floor(reviewed.scores / THRESHOLD_STEP) * THRESHOLD_STEP)
    for candidate in candidates:
        threshold = round(float(candidate), 6)
        kept = at_or_above(reviewed.scores, threshold)
        measured = precision_at(reviewed, threshold)
        estimated = float(calibrated[kept].mean())
        if measured.value >= target and estimated >= target:
            return ThresholdAdvice(
                reviewed.species, target, threshold, estimated, measured, calibration,
                f"from {reviewed.n} decisions ({reviewed.n_confirmed} confirmed)",
            )  # fmt: skip
    return ThresholdAdvice(
        reviewed.species, target, None, math.nan, None, calibration,
        f"no threshold reaches precision {target:.2f} on these {reviewed.n} decisions",
    )  # fmt: skip


@dataclass(frozen=True)
class ThresholdEffect:
    """What moving a species' threshold does to its decided events."""

    confirmed_removed: int  # confirmed events that would no longer be detected
    rejected_removed: int  # rejected (or relabelled) events that would no longer be detected
    confirmed_added: int
    rejected_added: int


def threshold_effect(reviewed: ReviewedScores, old: float, new: float) -> ThresholdEffect:
    """What moving a threshold from ``old`` to ``new`` does to the decided events."""
    before = at_or_above(reviewed.scores, old)
    after = at_or_above(reviewed.scores, new)
    removed, added = before & ~after, after & ~before
    good = reviewed.confirmed
    return ThresholdEffect(
        int((removed & good).sum()),
        int((removed & ~good).sum()),
        int((added & good).sum()),
        int((added & ~good).sum()),
    )
