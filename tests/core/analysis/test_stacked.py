"""Analyses held as blocks of arrays: the same events, probabilities and analyses, bit for bit,
as each analysis on its own — for every combine method, for blocks read from the store and for
recordings analysed again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bsgbat_gui.benchmark.synthetic import long_recording_info, synthetic_analysis
from bsgbat_gui.core.analysis.detections import detection_events
from bsgbat_gui.core.analysis.stacked import StackedAnalyses, block_of

METHODS = ("mean", "median", "min", "max")


def analyses(n: int, *, seed: int = 0) -> list:
    return [
        synthetic_analysis(
            long_recording_info(Path(f"/s/r{i}.wav"), 0.05 + 0.03 * i), seed=seed + i
        )
        for i in range(n)
    ]


def as_block(items: list):
    first = items[0]
    return block_of(
        [a.info.path for a in items],
        [a.info for a in items],
        [a.per_model_logits for a in items],
        first.labels,
        first.model_names,
    )


@pytest.mark.parametrize("method", METHODS)
def test_a_block_holds_what_each_analysis_holds(method: str) -> None:
    items = analyses(6)
    held = StackedAnalyses(method)  # type: ignore[arg-type]
    held.add(items[0])  # one given whole (analysed now) ...
    held.add_block(as_block(items[1:]))  # ... and five read at once
    thresholds = np.full(len(items[0].labels), 0.4)
    survey = held.detections(thresholds)
    for analysis in items:
        path = analysis.info.path
        alone = analysis.probabilities(method)
        assert np.array_equal(held.probabilities_of(path), alone)  # bit for bit
        rebuilt = held.analysis_of(path, analysis.info)
        assert rebuilt is not None
        assert np.array_equal(rebuilt.per_model_logits, analysis.per_model_logits)
        assert np.array_equal(rebuilt.probabilities(method), alone)
        expected = detection_events(alone, analysis.windows, thresholds, analysis.labels)
        mine = survey.of_recording(path)
        assert np.array_equal(mine.label_index, expected.label_index)
        for column in ("start_s", "end_s", "max_prob", "mean_prob"):
            assert np.array_equal(getattr(mine, column), getattr(expected, column)), column
    label = items[0].labels[3]
    k = items[0].labels.index(label)
    assert held.event_count(label, 0.4) == int((survey.events.label_index == k).sum())


def test_a_recording_analysed_again_replaces_its_old_analysis() -> None:
    items = analyses(4)
    held = StackedAnalyses()
    held.add_block(as_block(items))
    again = synthetic_analysis(items[1].info, seed=99)  # the same file, new numbers
    held.add(again)
    assert len(held) == 4
    assert held.paths == [items[0].info.path, items[2].info.path, items[3].info.path,
                          items[1].info.path]  # fmt: skip
    thresholds = np.full(len(again.labels), 0.3)
    survey = held.detections(thresholds)
    expected = detection_events(
        again.probabilities("mean"), again.windows, thresholds, again.labels
    )
    mine = survey.of_recording(again.info.path)
    assert np.array_equal(mine.max_prob, expected.max_prob)
    # The old analysis' events are gone: no event of the dead slot is left.
    total = sum(
        len(detection_events(a.probabilities("mean"), a.windows, thresholds, a.labels))
        for a in (items[0], again, items[2], items[3])
    )
    assert len(survey.events) == total
    assert held.event_count(again.labels[2], 0.3) == int((survey.events.label_index == 2).sum())
    held.set_combine("max")
    assert np.array_equal(held.probabilities_of(again.info.path), again.probabilities("max"))


def test_another_model_set_replaces_everything() -> None:
    items = analyses(2)
    held = StackedAnalyses()
    held.add_block(as_block(items))
    other = synthetic_analysis(long_recording_info(Path("/s/x.wav"), 0.05), seed=5)
    object.__setattr__(other, "labels", tuple(reversed(other.labels)))
    held.add(other)
    assert held.paths == [other.info.path]


def test_a_threshold_change_of_one_label_equals_finding_every_event_again() -> None:
    """The window's threshold drag reuses the other labels' events: the result must be the
    one a full search gives, and each kept event must point at itself in the previous one."""
    items = analyses(8)
    held = StackedAnalyses()
    held.add(items[0])
    held.add_block(as_block(items[1:]))
    held.add(synthetic_analysis(items[3].info, seed=42))  # one dead slot in the stack
    rng = np.random.default_rng(0)
    thresholds = np.full(len(items[0].labels), 0.5)
    previous, _ = held.detections_after(thresholds, None)
    for step in range(25):
        thresholds = thresholds.copy()
        for k in rng.choice(len(thresholds), size=1 + step % 3, replace=False):
            thresholds[k] = rng.choice([0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95])
        found, reused = held.detections_after(thresholds, previous)
        full = StackedAnalyses()
        full.add(items[0])
        full.add_block(as_block(items[1:]))
        full.add(synthetic_analysis(items[3].info, seed=42))
        expected = full.detections(thresholds)
        for column in ("label_index", "first_segment", "last_segment", "max_prob", "mean_prob",
                       "start_s", "end_s"):  # fmt: skip
            assert np.array_equal(getattr(found.events, column), getattr(expected.events, column))
        assert np.array_equal(found.recording_index, expected.recording_index)
        assert reused is not None
        kept = reused >= 0
        assert np.array_equal(
            found.events.first_segment[kept], previous.events.first_segment[reused[kept]]
        )
        assert np.array_equal(
            found.events.label_index[kept], previous.events.label_index[reused[kept]]
        )
        previous = found
