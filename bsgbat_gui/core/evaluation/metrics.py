"""Evaluating the models against human annotations, per species (BriteKit's rpt-test, for bats).

Units of evaluation, by ``granularity``:

* ``segment`` — every model window (1.024 s) of every annotated recording; a window is positive
  for a species when an annotation of it overlaps the window at all (a 5 ms call inside a window
  is the window's content). Score: the window's probability.
* ``block`` — consecutive blocks of ``block_s`` seconds (in the annotations' time base, like
  BriteKit's minutes); positive when annotated in that block (or a per-segment annotation falls
  in it). Score: the highest probability of the windows overlapping the block.
* ``recording`` — one unit per recording; score: its highest window probability.

Per species: PR-AUC (average precision, the sum over score thresholds of precision × the recall
gained), ROC-AUC (the Mann–Whitney probability that a positive unit outscores a negative one,
ties counted half), and precision / recall at the current threshold (score ≥ threshold, the
event rule's comparison). AUCs are undefined (None) without positives (PR and ROC) or without
negatives (ROC). Only recordings that are both annotated and analysed are evaluated; the rest are
listed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.evaluation.annotations import (
    GRANULARITIES,
    GRANULARITY_BLOCK,
    GRANULARITY_SEGMENT,
    Annotation,
    AnnotationSet,
)
from bsgbat_gui.core.model_card import BACKGROUND_LABEL

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bsgbat_gui.core.analysis.analyse import RecordingAnalysis
    from bsgbat_gui.core.analysis.thresholds import ThresholdSettings
    from bsgbat_gui.core.models.ensemble import CombineMethod

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
DEFAULT_BLOCK_S = 60.0


class EvaluationError(ValueError):
    """The evaluation cannot be made (e.g. a granularity finer than the annotations)."""


def precision_recall_curve(
    scores: FloatArray, positive: BoolArray
) -> tuple[FloatArray, FloatArray] | None:
    """Precision and recall at each distinct score taken as the threshold, from the highest
    score down (tied units enter together); None without positives.
    """
    n_positive = int(positive.sum())
    if n_positive == 0 or len(scores) == 0:
        return None
    order = np.argsort(-scores, kind="stable")
    ordered_scores, ordered_positive = scores[order], positive[order]
    # The last unit of each run of equal scores: where a threshold can fall.
    last_of_tie = np.r_[np.flatnonzero(np.diff(ordered_scores)), len(ordered_scores) - 1]
    true_positives = np.cumsum(ordered_positive)[last_of_tie]
    precision = true_positives / (last_of_tie + 1)
    recall = true_positives / n_positive
    return precision, recall


def average_precision(scores: FloatArray, positive: BoolArray) -> float | None:
    """Area under the precision-recall curve as average precision: Σ (R_k − R_{k−1}) · P_k over
    the curve's points.
    """
    curve = precision_recall_curve(scores, positive)
    if curve is None:
        return None
    precision, recall = curve
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(scores: FloatArray, positive: BoolArray) -> float | None:
    """ROC-AUC by the Mann-Whitney rank sum (average ranks for ties); None without both classes."""
    n_positive = int(positive.sum())
    n_negative = len(positive) - n_positive
    if n_positive == 0 or n_negative == 0:
        return None
    # Imported here: scipy.stats costs 0.6 s, paid by every window start at module level.
    from scipy.stats import rankdata

    ranks = rankdata(scores)  # average ranks for ties
    return float((ranks[positive].sum() - n_positive * (n_positive + 1) / 2)
                 / (n_positive * n_negative))  # fmt: skip


@dataclass(frozen=True)
class SpeciesMetrics:
    """One species' evaluation: counts, PR-AUC, ROC-AUC and precision/recall at its threshold."""

    species: str
    n_units: int
    n_positive: int
    pr_auc: float | None
    roc_auc: float | None
    threshold: float
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float | None:
        """Precision at the threshold (None when nothing is detected)."""
        detected = self.true_positives + self.false_positives
        return self.true_positives / detected if detected else None

    @property
    def recall(self) -> float | None:
        """Recall at the threshold (None when nothing is annotated)."""
        return self.true_positives / self.n_positive if self.n_positive else None


@dataclass(frozen=True)
class Evaluation:
    """Every species' metrics over the units of one granularity."""

    granularity: str
    combine: str
    block_s: float
    time_base: str
    n_units: int
    recordings: tuple[str, ...]  # evaluated (annotated and analysed)
    not_analysed: tuple[str, ...]  # annotated, but the store has no analysis of them
    not_annotated: int  # analysed recordings the annotations do not mention
    species: tuple[SpeciesMetrics, ...]
    problems: tuple[str, ...]
    units: EvaluationUnits | None = field(default=None, repr=False, compare=False)

    def curve(self, species: str) -> tuple[FloatArray, FloatArray] | None:
        """The species' precision-recall curve over the units (None: no positives)."""
        if self.units is None or species not in self.labels:
            return None
        i = self.labels.index(species)
        return precision_recall_curve(self.units.scores[:, i], self.units.truth[:, i])

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels evaluated, in model order."""
        return self.units.labels if self.units is not None else ()

    def macro(self, key: str) -> float | None:
        """Mean of a metric over the species where it is defined."""
        values = [getattr(m, key) for m in self.species if getattr(m, key) is not None]
        return float(np.mean(values)) if values else None


@dataclass(frozen=True)
class EvaluationUnits:
    """The units' scores and truth, ``[n_units, n_labels]``, and which recording each is from."""

    scores: FloatArray
    truth: BoolArray
    recording: tuple[str, ...]
    labels: tuple[str, ...] = ()


def _real_span(annotation: Annotation, te: float, time_base: str) -> tuple[float, float]:
    assert annotation.start_s is not None
    assert annotation.end_s is not None
    factor = te if time_base == "file" else 1.0
    return annotation.start_s / factor, annotation.end_s / factor


def evaluation_units(
    analyses: Sequence[RecordingAnalysis],
    annotations: AnnotationSet,
    granularity: str,
    *,
    combine: CombineMethod = "mean",
    block_s: float = DEFAULT_BLOCK_S,
    time_base: str = "file",
) -> EvaluationUnits:
    """The units (segments, blocks or recordings) with each label's score and truth."""
    if granularity not in GRANULARITIES:
        raise EvaluationError(f"unknown granularity {granularity!r}; one of {GRANULARITIES}")
    if GRANULARITIES.index(granularity) < GRANULARITIES.index(annotations.granularity):
        raise EvaluationError(
            f"the annotations are per-{annotations.granularity}: they cannot be evaluated per "
            f"{granularity}"
        )
    labels = analyses[0].labels if analyses else ()
    column = {label: i for i, label in enumerate(labels)}
    by_recording: dict[str, list[Annotation]] = {}
    for annotation in annotations.annotations:
        by_recording.setdefault(annotation.recording, []).append(annotation)
    scores: list[FloatArray] = []
    truth: list[BoolArray] = []
    names: list[str] = []
    for analysis in analyses:
        name = analysis.info.path.stem
        te = analysis.info.time_expansion
        probabilities = np.asarray(analysis.probabilities(combine), np.float64)
        starts = np.array([w.start_s for w in analysis.windows])
        ends = np.array([w.end_s for w in analysis.windows])
        marks = by_recording.get(name, [])
        if granularity == GRANULARITY_SEGMENT:
            unit_truth = np.zeros(probabilities.shape, np.bool_)
            for a in marks:
                low, high = _real_span(a, te, time_base)
                unit_truth[(starts < high) & (ends > low), column[a.species]] = True
            scores.append(probabilities)
            truth.append(unit_truth)
            names += [name] * len(probabilities)
        elif granularity == GRANULARITY_BLOCK:
            factor = te if time_base == "file" else 1.0
            real_block = block_s / factor
            n_blocks = max(1, math.ceil(analysis.info.duration_s / real_block - 1e-9))
            block_scores = np.zeros((n_blocks, len(labels)))
            block_truth = np.zeros((n_blocks, len(labels)), np.bool_)
            for k in range(n_blocks):
                low, high = k * real_block, (k + 1) * real_block
                inside = (starts < high) & (ends > low)
                if inside.any():
                    block_scores[k] = probabilities[inside].max(axis=0)
            for a in marks:
                if a.block is not None:
                    if a.block <= n_blocks:
                        block_truth[a.block - 1, column[a.species]] = True
                else:
                    low, high = _real_span(a, te, time_base)
                    first = int(low // real_block)
                    last = min(n_blocks - 1, int(max(low, high - 1e-9) // real_block))
                    block_truth[first : last + 1, column[a.species]] = True
            scores.append(block_scores)
            truth.append(block_truth)
            names += [name] * n_blocks
        else:
            recording_truth = np.zeros((1, len(labels)), np.bool_)
            for a in marks:
                recording_truth[0, column[a.species]] = True
            scores.append(probabilities.max(axis=0, keepdims=True))
            truth.append(recording_truth)
            names.append(name)
    if not scores:
        empty = np.zeros((0, len(labels)))
        return EvaluationUnits(empty, empty.astype(np.bool_), (), tuple(labels))
    return EvaluationUnits(np.vstack(scores), np.vstack(truth), tuple(names), tuple(labels))


def evaluate(
    analyses: Sequence[RecordingAnalysis],
    annotations: AnnotationSet,
    settings: ThresholdSettings,
    granularity: str = GRANULARITY_SEGMENT,
    *,
    block_s: float = DEFAULT_BLOCK_S,
    time_base: str = "file",
) -> Evaluation:
    """Per-species metrics of ``analyses`` against ``annotations`` at ``settings``' thresholds
    and combine method.
    """
    annotated = [a for a in analyses if a.info.path.stem in annotations.recordings]
    analysed = {a.info.path.stem for a in analyses}
    units = evaluation_units(
        annotated, annotations, granularity,
        combine=settings.combine, block_s=block_s, time_base=time_base,
    )  # fmt: skip
    labels = annotated[0].labels if annotated else ()
    metrics = []
    for i, label in enumerate(labels):
        if label == BACKGROUND_LABEL:
            continue
        score, positive = units.scores[:, i], units.truth[:, i]
        threshold = settings.threshold(label)
        detected = np.asarray(score, np.float32) >= np.float32(threshold)
        metrics.append(
            SpeciesMetrics(
                species=label,
                n_units=len(score),
                n_positive=int(positive.sum()),
                pr_auc=average_precision(score, positive),
                roc_auc=roc_auc(score, positive),
                threshold=threshold,
                true_positives=int((detected & positive).sum()),
                false_positives=int((detected & ~positive).sum()),
                false_negatives=int((~detected & positive).sum()),
            )
        )
    return Evaluation(
        granularity=granularity,
        combine=settings.combine,
        block_s=block_s,
        time_base=time_base,
        n_units=len(units.recording),
        recordings=tuple(sorted({a.info.path.stem for a in annotated})),
        not_analysed=tuple(sorted(annotations.recordings - analysed)),
        not_annotated=len(analysed - annotations.recordings),
        species=tuple(metrics),
        problems=annotations.problems,
        units=units,
    )
