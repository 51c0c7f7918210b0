"""Verification sampling: a reproducible stratified draw, kept in the store, and the precision
estimator, whose 95 % interval is checked by simulation to cover the true precision."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from report_survey import report_store, report_survey

from bsgbat_gui.core.evaluation.sampling import (
    SampleError,
    SampleKey,
    StratumCount,
    VerificationSample,
    draw_sample,
    estimate_precision,
    load_sample,
    population,
    precision_from_decisions,
    save_sample,
    stratified_estimate,
    stratum_of,
)
from bsgbat_gui.core.review.store import ReviewStore
from bsgbat_gui.core.review.survey import DetectionRow, recording_rows

EDGES = (0.5, 0.7, 0.9, 1.0)


def _row(i: int, species: str, p: float, status: str = "unreviewed") -> DetectionRow:
    return DetectionRow(
        path=Path(f"/s/r{i // 4:05d}.wav"), time_expansion=1.0, recording_start=None,
        latitude=None, longitude=None, start_s=(i % 4) * 0.5, end_s=(i % 4) * 0.5 + 1.024,
        species_auto=species, max_prob=p, mean_prob=p, n_segments=1, threshold=0.5,
        combine="mean", status=status, species_final="", reviewer="", reviewed_at="", note="",
        model_set="",
    )  # fmt: skip


def _population(n: int = 400, seed: int = 3) -> list[DetectionRow]:
    rng = np.random.default_rng(seed)
    return [_row(i, "A" if i % 3 else "B", float(rng.uniform(0.5, 1.0))) for i in range(n)]


def test_stratum_of_bins_half_open_with_the_last_closed() -> None:
    assert [stratum_of(p, EDGES) for p in (0.5, 0.69, 0.7, 0.95, 1.0, 0.2)] == [0, 0, 1, 2, 2, 0]


def test_draw_is_stratified_and_reproducible_with_its_seed() -> None:
    rows = _population()
    a = draw_sample(rows, per_stratum=5, seed=11, edges=EDGES)
    b = draw_sample(list(reversed(rows)), per_stratum=5, seed=11, edges=EDGES)
    c = draw_sample(rows, per_stratum=5, seed=12, edges=EDGES)
    assert a.keys == b.keys  # the rows' order does not matter, the seed does
    assert a.keys != c.keys
    per_stratum: dict[tuple[str, int], int] = {}
    probability = {(r.path, r.species_auto, r.start_s): r.max_prob for r in rows}
    for key in a.keys:
        k = stratum_of(probability[(key.path, key.species, key.start_s)], EDGES)
        per_stratum[(key.species, k)] = per_stratum.get((key.species, k), 0) + 1
    assert per_stratum == {(s, k): 5 for s in "AB" for k in range(3)}
    assert len(set(a.keys)) == len(a.keys)
    # A stratum smaller than the size is taken whole; sizes override per stratum; a species'
    # draw does not depend on another's.
    small = draw_sample(rows[:6], per_stratum=50, seed=1, edges=EDGES)
    assert len(small.keys) == len(population(rows[:6]))
    sized = draw_sample(rows, per_stratum=5, seed=11, edges=EDGES, sizes={("B", 0): 1})
    assert [k for k in sized.keys if k.species == "A"] == [k for k in a.keys if k.species == "A"]
    with pytest.raises(SampleError):
        draw_sample(rows, per_stratum=5, seed=1, edges=(0.5, 0.4))


def test_sample_is_kept_in_the_store(tmp_path: Path) -> None:
    store_path = report_store(tmp_path / "survey")
    rows = [r for rec in recording_rows(report_survey(tmp_path / "survey")) for r in rec.rows]
    sample = draw_sample(rows, per_stratum=1, seed=5)
    with ReviewStore.open(store_path) as store:
        assert load_sample(store) is None
        save_sample(store, sample)
    with ReviewStore.open(store_path) as store:
        loaded = load_sample(store)
        assert '"path": "north/' in (store.get_meta("verification_sample") or "")  # portable
    assert loaded == sample
    with ReviewStore.open(store_path) as store:
        store.set_meta("verification_sample", "{not json")
        with pytest.raises(SampleError):
            load_sample(store)


def test_estimate_weights_strata_back_to_all_detections() -> None:
    # Stratum 0: 100 detections, 10 sampled, 5 confirmed; stratum 1: 300, 10 sampled, all 10
    # confirmed; stratum 2: none.  P = 0.25 * 0.5 + 0.75 * 1.0 = 0.875 (the unweighted share of
    # the sample would be 0.75).
    rows = [_row(i, "A", 0.6) for i in range(100)] + [_row(100 + i, "A", 0.8) for i in range(300)]
    keys = []
    decided = []
    for stratum, (first, confirmed) in enumerate(((0, 5), (100, 10))):
        for j in range(10):
            row = rows[first + j]
            status = "confirmed" if j < confirmed else ("rejected" if j % 2 else "relabelled")
            decided.append(replace(row, status=status))
            keys.append(SampleKey(row.path, "A", row.start_s, row.end_s))
        del stratum
    rows = decided + rows[10:100] + rows[110:]
    sample = VerificationSample(tuple(keys), EDGES, 10, 1)
    estimate = estimate_precision(rows, sample)["A"]
    assert estimate.precision == pytest.approx(0.875)
    assert estimate.true_passes == pytest.approx(350)
    assert estimate.low is not None
    assert estimate.high is not None
    assert estimate.low < 0.875 < estimate.high
    assert [(s.detections, s.sampled, s.decided, s.confirmed) for s in estimate.strata] == [
        (100, 10, 10, 5), (300, 10, 10, 10), (0, 0, 0, 0),
    ]  # fmt: skip
    # Decisions outside the sample do not count; without a sample, decisions do (marked).
    fallback = precision_from_decisions(rows)["A"]
    assert (fallback.method, fallback.decided, fallback.precision) == ("decisions", 20, 0.75)


def test_census_is_exact_and_unreviewed_strata_widen_to_the_worst_case() -> None:
    census = stratified_estimate(
        "A", [StratumCount(0, 1, 10, 10, 10, 7), StratumCount(1, 2, 30, 30, 30, 30)]
    )
    assert census.precision == census.low == census.high == pytest.approx(37 / 40)
    partial = stratified_estimate(
        "A", [StratumCount(0, 1, 10, 10, 10, 10), StratumCount(1, 2, 30, 5, 0, 0)]
    )
    assert partial.precision is None
    assert partial.true_passes is None
    assert partial.low == pytest.approx(0.25)  # 10 of 40 known right, 30 unknown
    assert partial.high == pytest.approx(1.0)
    nothing = stratified_estimate("A", [StratumCount(0, 1, 10, 0, 0, 0)])
    assert (nothing.precision, nothing.low, nothing.high) == (None, 0.0, 1.0)


SCENARIOS = [  # true per-stratum precisions (the detections' truth is drawn from them)
    (0.3, 0.6, 0.85, 0.97, 0.995),
    (0.9, 0.95, 0.98, 0.99, 1.0),
    (0.05, 0.1, 0.2, 0.5, 0.8),
    (0.99,) * 5,
    (0.01, 0.02, 0.05, 0.1, 0.2),
]
SIZES = (800, 400, 300, 200, 100)
SURVEYS = 400
MIN_COVERAGE = 0.90  # nominal 95 %; the tolerance allows for the Monte Carlo error (±2.2 % at
# 2 s.e. for 400 surveys) and the approximation's small under-coverage at tiny samples.


@pytest.mark.parametrize("per_stratum", [5, 20, 50])
@pytest.mark.parametrize("truth", SCENARIOS)
def test_interval_covers_the_true_precision_at_about_the_stated_rate(
    truth: tuple[float, ...], per_stratum: int
) -> None:
    started = time.perf_counter()
    rng = np.random.default_rng([2024, per_stratum, round(truth[0] * 1000)])
    covered = 0
    for _ in range(SURVEYS):
        strata = []
        true_total = 0
        for p, n_total in zip(truth, SIZES, strict=True):
            right = rng.random(n_total) < p  # which detections are right: the finite truth
            true_total += int(right.sum())
            n = min(per_stratum, n_total)
            sampled = rng.choice(n_total, size=n, replace=False)
            strata.append(StratumCount(0, 1, n_total, n, n, int(right[sampled].sum())))
        estimate = stratified_estimate("A", strata)
        assert estimate.low is not None
        assert estimate.high is not None
        covered += estimate.low <= true_total / sum(SIZES) <= estimate.high
    assert covered / SURVEYS >= MIN_COVERAGE
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(("per_stratum", "seed", "edges", "threshold"), [
    (2, 1, (0.0, 0.6, 0.8, 0.9, 0.95, 1.0), 0.05), (5, 42, (0.0, 0.5, 1.0), 0.1),
    (20, 7, (0.0, 1.0), 0.02),
])  # fmt: skip
def test_the_window_draws_from_its_event_arrays_the_sample_the_rows_give(
    per_stratum: int, seed: int, edges: tuple[float, ...], threshold: float
) -> None:
    from bsgbat_gui.benchmark.synthetic import long_recording_info, synthetic_analysis
    from bsgbat_gui.core.analysis.stacked import StackedAnalyses
    from bsgbat_gui.core.analysis.thresholds import ThresholdSettings
    from bsgbat_gui.core.evaluation.sampling import draw_sample_of_events
    from bsgbat_gui.core.review.survey import Survey, SurveyRecording

    analyses = [  # two folders, names that sort differently as text and as paths' parts
        synthetic_analysis(
            long_recording_info(Path(f"/s/{site}/r{i}.wav"), 0.05 + 0.01 * (i % 5)), seed=i
        )
        for site in ("a b", "a-b", "a")
        for i in range(12)
    ]
    labels = analyses[0].labels
    settings = ThresholdSettings(thresholds=dict.fromkeys(labels, threshold))
    survey = Survey.of([SurveyRecording(a, "set") for a in analyses], settings, [])
    held = StackedAnalyses(survey.settings.combine)
    for recording in survey.recordings:
        held.add(recording.analysis)
    detections = held.detections(survey.settings.array_for(held.labels))
    rows = [row for rec in recording_rows(survey) for row in rec.rows]
    assert len(detections.events) == len(population(rows)) > 40
    by_rows = draw_sample(rows, per_stratum=per_stratum, seed=seed, edges=edges)
    by_events = draw_sample_of_events(
        detections, held.labels, per_stratum=per_stratum, seed=seed, edges=edges
    )
    assert by_events.keys == by_rows.keys
    assert (by_events.edges, by_events.per_stratum, by_events.seed) == (edges, per_stratum, seed)
