"""Reliability, calibration and threshold advice from review decisions (hand-computed values,
known parameters recovered, and the advice's guarantee as a property)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bsgbat_gui.core.analysis.thresholds import THRESHOLD_STEP
from bsgbat_gui.core.evaluation.reliability import (
    MIN_DECISIONS,
    ReviewedScores,
    advise_threshold,
    at_or_above,
    fit_calibration,
    precision_at,
    reliability_bins,
    reviewed_scores,
    threshold_effect,
    wilson_interval,
)
from bsgbat_gui.core.review.survey import DetectionRow


def reviewed(scores: list[float], confirmed: list[bool], species: str = "S") -> ReviewedScores:
    return ReviewedScores(species, np.array(scores, np.float64), np.array(confirmed, np.bool_))


def test_wilson_interval_matches_published_values() -> None:
    # 8 of 10: 0.490 to 0.943; 0 of 5: 0 to 0.434; 50 of 100: 0.404 to 0.596 (Newcombe 1998)
    assert wilson_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=5e-4)
    assert wilson_interval(0, 5) == pytest.approx((0.0, 0.4345), abs=5e-4)
    assert wilson_interval(50, 100) == pytest.approx((0.4038, 0.5962), abs=5e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_bins_and_precision_by_hand() -> None:
    r = reviewed([0.05, 0.15, 0.55, 0.58, 0.95, 1.0], [False, False, True, False, True, True])
    bins = reliability_bins(r)
    assert [(b.n, b.n_confirmed) for b in bins] == [
        (1, 0), (1, 0), (0, 0), (0, 0), (0, 0), (2, 1), (0, 0), (0, 0), (0, 0), (2, 2),
    ]  # fmt: skip
    assert bins[5].fraction == 0.5
    assert math.isnan(bins[2].fraction)
    assert bins[9].fraction == 1.0
    p = precision_at(r, 0.55)
    assert (p.n, p.n_confirmed, p.value) == (4, 3, 0.75)
    assert (p.low, p.high) == pytest.approx(wilson_interval(3, 4))
    assert precision_at(r, 0.96).n == 1  # 1.0 only
    raised = threshold_effect(r, 0.5, 0.9)  # drops 0.55 (confirmed) and 0.58 (rejected)
    assert (raised.confirmed_removed, raised.rejected_removed, raised.confirmed_added) == (1, 1, 0)
    effect = threshold_effect(r, 0.9, 0.5)
    assert (effect.confirmed_added, effect.rejected_added, effect.confirmed_removed) == (1, 1, 0)


def _draw(intercept: float, slope: float, n: int, seed: int) -> ReviewedScores:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-4, 4, n)
    scores = 1 / (1 + np.exp(-x))
    truth = rng.random(n) < 1 / (1 + np.exp(-(intercept + slope * x)))
    return ReviewedScores("S", scores, truth)


@pytest.mark.parametrize(("intercept", "slope"), [(-1.0, 2.0), (0.5, 0.7), (2.0, 1.5)])
def test_calibration_recovers_known_parameters(intercept: float, slope: float) -> None:
    fitted = fit_calibration(_draw(intercept, slope, 20_000, seed=1))
    assert fitted.intercept == pytest.approx(intercept, abs=0.1)
    assert fitted.slope == pytest.approx(slope, abs=0.1)


def test_too_few_decisions_give_a_warning_and_no_advice() -> None:
    few = reviewed([0.6] * (MIN_DECISIONS - 1), [True] * (MIN_DECISIONS - 1))
    advice = advise_threshold(few)
    assert advice.threshold is None
    assert "too few decisions" in advice.reason
    one_sided = reviewed([0.6 + i / 100 for i in range(20)], [True] * 19 + [False])
    assert advise_threshold(one_sided).threshold is None  # 1 rejected: cannot calibrate


def test_many_rejected_low_probability_detections_raise_the_threshold() -> None:
    rng = np.random.default_rng(3)
    low = rng.uniform(0.5, 0.7, 40)  # mostly rejected
    high = rng.uniform(0.8, 1.0, 40)  # mostly confirmed
    scores = np.r_[low, high]
    confirmed = np.r_[rng.random(40) < 0.15, rng.random(40) < 0.97]
    advice = advise_threshold(ReviewedScores("S", scores, confirmed), target=0.9)
    # Precision counts every event at or above the threshold, so a few low ones may stay in:
    # the advice is well above 0.5 and drops most of the rejected low-probability events.
    assert advice.threshold is not None
    assert 0.6 < advice.threshold <= 0.8
    effect = threshold_effect(ReviewedScores("S", scores, confirmed), 0.5, advice.threshold)
    assert effect.rejected_removed >= 0.75 * int((~confirmed[:40]).sum())
    assert advice.measured is not None
    assert advice.measured.value >= 0.9
    assert advice.estimated_precision >= 0.9


decisions = st.lists(
    st.tuples(st.floats(0.3, 1.0, allow_nan=False), st.booleans()), min_size=0, max_size=60
)


@settings(max_examples=300, deadline=None)
@given(decisions, st.sampled_from([0.7, 0.8, 0.9, 0.95]))
def test_advice_never_goes_below_the_target_on_the_decisions(
    pairs: list[tuple[float, bool]], target: float
) -> None:
    r = reviewed([s for s, _ in pairs], [c for _, c in pairs])
    advice = advise_threshold(r, target)
    if advice.threshold is None:
        return
    measured = precision_at(r, advice.threshold)
    assert measured.value >= target
    assert advice.estimated_precision >= target
    # And it is the lowest: every lower candidate (a decided score rounded down to the step)
    # fails the measured or the calibrated test.
    assert advice.calibration is not None
    assert round(advice.threshold / THRESHOLD_STEP) * THRESHOLD_STEP == pytest.approx(
        advice.threshold
    )
    for score in sorted({s for s, _ in pairs}):
        lower = math.floor(score / THRESHOLD_STEP) * THRESHOLD_STEP
        if lower >= advice.threshold - 1e-9:
            continue
        kept = at_or_above(r.scores, lower)
        measured_value = r.confirmed[kept].mean()
        estimated = advice.calibration.confirmed_probability(r.scores[kept]).mean()
        assert measured_value < target or estimated < target


def test_reviewed_scores_take_decided_rows_by_detected_species() -> None:
    def row(species: str, p: float | None, status: str) -> DetectionRow:
        return DetectionRow(
            path=Path("a.wav"), time_expansion=1.0, recording_start=None, latitude=None,
            longitude=None, start_s=0.0, end_s=1.0, species_auto=species, max_prob=p,
            mean_prob=p, n_segments=1, threshold=0.5, combine="mean", status=status,
            species_final=species, reviewer="", reviewed_at="", note="", model_set="",
        )  # fmt: skip

    rows = [
        row("A", 0.9, "confirmed"), row("A", 0.6, "rejected"), row("A", 0.7, "relabelled"),
        row("A", 0.8, "unreviewed"), row("B", 0.95, "confirmed"), row("C", None, "confirmed"),
    ]  # fmt: skip
    got = reviewed_scores(rows)
    assert sorted(got) == ["A", "B"]
    assert got["A"].scores.tolist() == [0.9, 0.6, 0.7]
    assert got["A"].confirmed.tolist() == [True, False, False]
