"""Analyses held as blocks of arrays: the same events, probabilities and analyses, bit for bit,
as each analysis on its own — for every combine method, for blocks read from the store and for
recordings analysed again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bsgbat_gui.benchmark.synthetic import long_recording_info, synthetic_analysis
from bsgbat_gui.core.analysis.detections import detection_events
from bsgbat_gui.core.analysis.stacked import StackedAnalyses, block_of, recombine_block

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


def stored(items: list) -> dict[Path, np.ndarray]:
    """The logits as a store keeps them, by path."""
    return {a.info.path: np.asarray(a.per_model_logits, dtype=np.float32) for a in items}


def read_from(kept: dict[Path, np.ndarray], model_set_id: str = "set-1"):
    def read(paths, wanted_id: str) -> dict[Path, np.ndarray]:
        assert wanted_id == model_set_id
        return {p: kept[p] for p in paths if p in kept}

    return read


@pytest.mark.parametrize(("before", "after"), [("mean", "max"), ("max", "median")])
def test_a_store_block_holds_only_probabilities_and_recombines_from_the_logits_kept(
    before: str, after: str
) -> None:
    items = analyses(7, seed=11)
    kept = stored(items)
    first = items[0]
    block = block_of(
        [a.info.path for a in items[1:]], [a.info for a in items[1:]],
        [a.per_model_logits for a in items[1:]], first.labels, first.model_names,
        combine=before, model_set_id="set-1",  # type: ignore[arg-type]
    )  # fmt: skip
    assert block.per_model_logits is None  # six models' logits stay in the store
    held = StackedAnalyses(before)  # type: ignore[arg-type]
    held.add(first)  # analysed now: its logits held
    held.add_block(block)
    for a in items:
        assert np.array_equal(held.probabilities_of(a.info.path), a.probabilities(before))
    # The shown recording's analysis: its logits read back from the store.
    shown = items[3]
    assert held.analysis_of(shown.info.path, shown.info) is None  # nothing to read them from
    rebuilt = held.analysis_of(shown.info.path, shown.info, lambda p, m: kept[p])
    assert rebuilt is not None
    assert np.array_equal(rebuilt.per_model_logits, shown.per_model_logits)
    assert held.recombination_wanted() is None

    held.set_combine(after)  # type: ignore[arg-type]
    assert np.array_equal(held.probabilities_of(first.info.path), first.probabilities(after))
    assert not held.is_combined_throughout
    wanted = held.recombination_wanted()
    assert wanted is not None
    assert (wanted.method, wanted.n_recordings) == (after, 6)
    (stale,) = wanted.blocks
    recombined = recombine_block(stale, wanted.method, read_from(kept))
    assert recombined is not None
    assert not held.set_recombined(wanted.generation - 1, stale.index, after, recombined)
    assert not held.set_recombined(wanted.generation, stale.index, before, recombined)
    assert held.set_recombined(wanted.generation, stale.index, after, recombined)
    assert held.is_combined_throughout
    assert held.recombination_wanted() is None
    # Equal, bit for bit, to holding every analysis whole by the new method.
    whole = StackedAnalyses(after)  # type: ignore[arg-type]
    for a in items:
        whole.add(a)
    thresholds = np.full(len(first.labels), 0.35)
    mine, expected = held.detections(thresholds), whole.detections(thresholds)
    for a in items:
        assert np.array_equal(held.probabilities_of(a.info.path), a.probabilities(after))
        ours, theirs = mine.of_recording(a.info.path), expected.of_recording(a.info.path)
        for column in ("label_index", "start_s", "end_s", "max_prob", "mean_prob"):
            assert np.array_equal(getattr(ours, column), getattr(theirs, column)), column


def test_a_recombination_of_a_changed_store_or_an_old_survey_is_not_taken() -> None:
    items = analyses(3, seed=2)
    first = items[0]
    block = block_of(
        [a.info.path for a in items], [a.info for a in items],
        [a.per_model_logits for a in items], first.labels, first.model_names,
        combine="mean", model_set_id="set-1",
    )  # fmt: skip
    held = StackedAnalyses("mean")
    held.add_block(block)
    held.set_combine("max")
    wanted = held.recombination_wanted()
    assert wanted is not None
    kept = stored(items)
    del kept[items[1].info.path]  # analysed again elsewhere, by another model set
    assert recombine_block(wanted.blocks[0], "max", read_from(kept)) is None
    kept = stored(items)
    good = recombine_block(wanted.blocks[0], "max", read_from(kept))
    assert good is not None
    held.clear()  # another folder opened meanwhile
    held.add_block(block)
    assert not held.set_recombined(wanted.generation, 0, "max", good)
