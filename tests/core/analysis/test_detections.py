"""The detection-event rule: property tests against a plain loop, and presets."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bsgbat_gui.core.analysis.detections import (
    detection_events,
    detection_events_of_many,
    find_runs,
)
from bsgbat_gui.core.analysis.thresholds import (
    DEFAULT_THRESHOLD,
    PresetError,
    ThresholdSettings,
    load_preset,
    parse_preset,
    save_preset,
)
from bsgbat_gui.core.audio.segments import segment_windows
from bsgbat_gui.core.model_card import BACKGROUND_LABEL

LABELS = ("Myotis daubentonii", "Pipistrellus pipistrellus", BACKGROUND_LABEL)


def loop_events(probabilities, thresholds, labels, breaks=None):
    """The rule, written as the issue states it, one segment at a time."""
    events = []
    n = len(probabilities)
    for j, label in enumerate(labels):
        if label == BACKGROUND_LABEL:
            continue
        run: list[int] = []
        for i in range(n):
            if breaks is not None and breaks[i] and run:
                events.append((j, run))
                run = []
            if probabilities[i][j] >= thresholds[j]:
                run.append(i)
            elif run:
                events.append((j, run))
                run = []
        if run:
            events.append((j, run))
    return [
        (
            j,
            run[0],
            run[-1],
            max(probabilities[i][j] for i in run),
            sum(float(probabilities[i][j]) for i in run) / len(run),
        )
        for j, run in events
    ]


def as_tuples(events):
    return [
        (int(j), int(a), int(b), float(mx), float(mn))
        for j, a, b, mx, mn in zip(
            events.label_index,
            events.first_segment,
            events.last_segment,
            events.max_prob,
            events.mean_prob,
            strict=True,
        )
    ]


probability_tables = st.integers(1, 40).flatmap(
    lambda n: arrays(
        np.float32,
        (n, len(LABELS)),
        elements=st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.5000001, 0.7, 0.9, 1.0]).map(np.float32),
    )
)
threshold_lists = st.lists(
    st.sampled_from([0.0, 0.3, 0.5, 0.7, 0.95, 1.0]), min_size=len(LABELS), max_size=len(LABELS)
)


@settings(max_examples=300, deadline=None)
@given(probability_tables, threshold_lists)
def test_events_equal_the_plain_loop(probabilities, thresholds) -> None:
    events = find_runs(probabilities, thresholds, [True, True, False])
    expected = loop_events(probabilities, thresholds, LABELS)
    got = as_tuples(events)
    assert [e[:3] for e in got] == [e[:3] for e in expected]
    np.testing.assert_allclose([e[3:] for e in got], [e[3:] for e in expected], atol=1e-7)


@settings(max_examples=300, deadline=None)
@given(probability_tables, threshold_lists)
def test_every_detected_segment_lies_in_exactly_one_event(probabilities, thresholds) -> None:
    events = find_runs(probabilities, thresholds, [True, True, False])
    for j in (0, 1):
        covering = np.zeros(len(probabilities), int)
        for label, a, b in zip(
            events.label_index, events.first_segment, events.last_segment, strict=True
        ):
            if label == j:
                covering[a : b + 1] += 1
        detected = probabilities[:, j] >= thresholds[j]
        assert np.array_equal(covering, detected.astype(int))  # one event each, none elsewhere
    assert not np.any(events.label_index == 2)  # Background is never detected


@settings(max_examples=300, deadline=None)
@given(probability_tables, threshold_lists, st.lists(st.floats(0, 0.5), min_size=3, max_size=3))
def test_raising_a_threshold_never_creates_an_event_outside_an_existing_one(
    probabilities, thresholds, raises
) -> None:
    before = find_runs(probabilities, thresholds, [True, True, False])
    higher = np.minimum(np.array(thresholds) + np.array(raises), 1.0)
    after = find_runs(probabilities, higher, [True, True, False])
    for j, a, b in zip(after.label_index, after.first_segment, after.last_segment, strict=True):
        inside = (
            (before.label_index == j) & (before.first_segment <= a) & (b <= before.last_segment)
        )
        assert inside.sum() == 1


@settings(max_examples=200, deadline=None)
@given(probability_tables, threshold_lists, st.data())
def test_no_run_crosses_a_recording_boundary(probabilities, thresholds, data) -> None:
    n = len(probabilities)
    breaks = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    breaks[0] = True
    events = find_runs(probabilities, thresholds, [True, True, False], run_breaks=breaks)
    expected = loop_events(probabilities, thresholds, LABELS, breaks)
    assert [e[:3] for e in as_tuples(events)] == [e[:3] for e in expected]
    # Each recording separately gives the same events.
    starts = [*np.flatnonzero(breaks), n]
    separately = []
    for a, b in itertools.pairwise(starts):
        part = find_runs(probabilities[a:b], thresholds, [True, True, False])
        separately += [(j, f + a, last + a) for j, f, last, *_ in as_tuples(part)]
    assert sorted(separately) == sorted(e[:3] for e in as_tuples(events))


def test_event_times_run_from_the_first_window_start_to_the_last_window_end() -> None:
    # 1.6 s at the card's frame rate: grid windows at 0, 0.5 s, then a tail window.
    windows = segment_windows(800, duration_s=1.6)
    assert [w.flag for w in windows] == ["", "", "tail"]
    p = np.array([[0.9, 0.1, 0.0], [0.8, 0.1, 0.0], [0.7, 0.6, 0.99]], np.float32)
    events = detection_events(p, windows, [0.5, 0.5, 0.5], LABELS)
    assert as_tuples(events)[0][:3] == (0, 0, 2)
    assert events.start_s[0] == 0.0
    assert events.end_s[0] == pytest.approx(1.6)
    assert events.start_s[1] == pytest.approx(windows[2].start_s)
    assert list(events.n_segments) == [3, 1]
    assert events.mean_prob[0] == pytest.approx(0.8)
    assert events.max_prob[0] == pytest.approx(0.9)


def test_an_undetected_segment_ends_the_run_even_though_windows_overlap() -> None:
    windows = segment_windows(1500, duration_s=3.0)
    p = np.zeros((len(windows), 3), np.float32)
    p[[0, 2], 0] = 0.9  # windows 0 and 2 overlap by 24 ms; window 1 is below threshold
    events = detection_events(p, windows, [0.5, 0.5, 0.5], LABELS)
    assert as_tuples(events)[0][:3] == (0, 0, 0)
    assert as_tuples(events)[1][:3] == (0, 2, 2)


def test_stacked_recordings_get_their_own_times() -> None:
    w1 = segment_windows(800, duration_s=1.6)
    w2 = segment_windows(600, duration_s=1.2)
    p = np.full((len(w1) + len(w2), 3), 0.9, np.float32)
    starts = [w.start_s for w in (*w1, *w2)]
    ends = [w.end_s for w in (*w1, *w2)]
    breaks = [True] + [False] * (len(w1) - 1) + [True] + [False] * (len(w2) - 1)
    events = detection_events_of_many(p, starts, ends, breaks, [0.5] * 3, LABELS)
    assert len(events) == 4  # two species x two recordings, Background never
    second = events.take(events.first_segment == len(w1))
    assert np.all(second.start_s == 0.0)
    assert np.allclose(second.end_s, 1.2)


def test_thresholds_are_inclusive() -> None:
    p = np.array([[0.5, 0.49999, 0.0]], np.float32)
    events = find_runs(p, [0.5, 0.5, 0.5], [True, True, False])
    assert list(events.label_index) == [0]


def test_preset_round_trip_and_complete_state(tmp_path: Path) -> None:
    path = tmp_path / "night.json"
    settings_ = ThresholdSettings({"Myotis daubentonii": 0.82}, "median")
    save_preset(path, settings_, LABELS)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["combine"] == "median"
    assert document["thresholds"] == {
        "Myotis daubentonii": 0.82,
        "Pipistrellus pipistrellus": DEFAULT_THRESHOLD,
        BACKGROUND_LABEL: DEFAULT_THRESHOLD,
    }
    loaded = load_preset(path, LABELS)
    assert loaded.problems == ()
    assert loaded.settings.combine == "median"
    assert list(loaded.settings.array_for(LABELS)) == [0.82, 0.5, 0.5]


def test_preset_unknown_species_and_bad_values_are_reported_not_fatal() -> None:
    text = json.dumps(
        {
            "combine": "geometric",
            "thresholds": {
                "myotis DAUBENTONII": 0.6,
                "Myotis bechsteinii": 0.4,
                "Pipistrellus pipistrellus": 1.5,
                BACKGROUND_LABEL: "high",
            },
        }
    )
    loaded = parse_preset(text, LABELS)
    assert loaded.settings.threshold("Myotis daubentonii") == 0.6
    assert loaded.settings.threshold("Pipistrellus pipistrellus") == DEFAULT_THRESHOLD
    assert loaded.settings.combine == "mean"
    problems = "\n".join(loaded.problems)
    assert "'Myotis bechsteinii'" in problems
    assert "geometric" in problems
    assert "outside 0..1" in problems
    assert "not a number" in problems
    assert len(loaded.problems) == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a thresholds preset"),
        (b"\xff\xfe", "not a text file"),
    ],
)
def test_unusable_presets_raise_one_clear_error(tmp_path: Path, content, message) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(PresetError, match=message):
        load_preset(path, LABELS)
    with pytest.raises(PresetError, match="no such file"):
        load_preset(tmp_path / "missing.json", LABELS)


def test_stacked_analyses_follow_the_combine_method() -> None:
    from bsgbat_gui.benchmark.synthetic import long_recording_info, synthetic_analysis
    from bsgbat_gui.core.analysis.stacked import StackedAnalyses

    analyses = [
        synthetic_analysis(long_recording_info(Path(f"/s/r{i}.wav"), 0.5), seed=i) for i in range(3)
    ]
    stacked = StackedAnalyses()
    for analysis in analyses:
        stacked.add(analysis)
    thresholds = np.full(len(analyses[0].labels), 0.5)
    stacked.detections(thresholds)  # builds the stack under "mean"
    for method in ("max", "median", "mean"):
        stacked.set_combine(method)
        survey = stacked.detections(thresholds)
        for i, analysis in enumerate(analyses):
            alone = detection_events(
                analysis.probabilities(method), analysis.windows, thresholds, analysis.labels
            )
            mine = survey.of_recording(analysis.info.path)
            # Segment indices are the stack's; labels, spans and probabilities must agree.
            assert np.array_equal(mine.label_index, alone.label_index), (method, i)
            assert np.array_equal(mine.n_segments, alone.n_segments)
            for column in ("start_s", "end_s", "max_prob", "mean_prob"):
                assert np.array_equal(getattr(mine, column), getattr(alone, column))


@pytest.mark.parametrize("threshold", [0.3, 0.6, 0.9, 1.0])
def test_species_by_recording_lists_each_recordings_detected_labels_in_label_order(
    threshold: float,
) -> None:
    from bsgbat_gui.benchmark.synthetic import long_recording_info, synthetic_analysis
    from bsgbat_gui.core.analysis.stacked import StackedAnalyses

    stacked = StackedAnalyses()
    analyses = [
        synthetic_analysis(long_recording_info(Path(f"/s/r{i}.wav"), 0.1 + 0.1 * i), seed=i)
        for i in range(5)
    ]
    for analysis in analyses:
        stacked.add(analysis)
    labels = stacked.labels
    thresholds = np.full(len(labels), threshold)
    found = stacked.detections(thresholds).species_by_recording(labels)
    for analysis in analyses:  # the plain way: one recording at a time
        alone = detection_events(
            analysis.probabilities("mean"), analysis.windows, thresholds, labels
        )
        expected = tuple(labels[j] for j in sorted(set(alone.label_index.tolist())))
        assert found[analysis.info.path] == expected
    assert list(found) == [a.info.path for a in analyses]
