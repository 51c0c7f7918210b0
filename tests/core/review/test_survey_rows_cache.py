"""The window's cached export rows are exactly :func:`recording_rows`, whatever changes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bsgbat_gui.core.analysis.analyse import RecordingAnalysis, windows_for
from bsgbat_gui.core.analysis.thresholds import ThresholdSettings
from bsgbat_gui.core.audio.recording import RecordingInfo
from bsgbat_gui.core.models.ensemble import COMBINE_METHODS
from bsgbat_gui.core.review.decisions import Decision, RecordingReview
from bsgbat_gui.core.review.survey import (
    RecordingRows,
    RecordingRowsCache,
    Survey,
    SurveyRecording,
    recording_rows,
)
from bsgbat_gui.core.species import SPECIES

LABELS = tuple(s.scientific_name for s in SPECIES)


def _analysis(path: Path, seconds: float, seed: int) -> RecordingAnalysis:
    info = RecordingInfo(
        path=path, header_rate_hz=384_000, channels=1, header_frames=round(seconds * 384_000),
        format="WAV", subtype="PCM_16", time_expansion=1.0, time_expansion_source="none",
    )  # fmt: skip
    windows = windows_for(info)
    rng = np.random.default_rng(seed)
    # Most labels low, three often above 0.5, the six models disagreeing (combine matters).
    level = np.full(len(LABELS), -5.0)
    level[[3, 12, 14]] = 0.0
    logits = level + rng.normal(0.0, 1.5, (6, len(windows), len(LABELS)))
    return RecordingAnalysis(info, tuple(windows), logits.astype(np.float32), LABELS,
                             tuple("abcdef"))  # fmt: skip


def _comparable(rows: list[RecordingRows]) -> list[tuple[object, ...]]:
    return [(r.recording.path, r.rows, r.detected_segments, r.fully_decided) for r in rows]


STEP = st.one_of(
    st.tuples(st.just("threshold"), st.sampled_from([3, 12, 14, 0]),
              st.sampled_from([0.05, 0.3, 0.5, 0.7, 0.95, 1.0])),
    st.tuples(st.just("combine"), st.sampled_from(COMBINE_METHODS), st.none()),
    st.tuples(st.just("decide"), st.integers(0, 3), st.integers(0, 40)),
    st.tuples(st.just("undecide"), st.integers(0, 3), st.none()),
    st.tuples(st.just("review"), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("reanalyse"), st.integers(0, 3), st.integers(0, 1000)),
    st.tuples(st.just("model_set"), st.integers(0, 3), st.sampled_from(["a" * 64, "b" * 64])),
)  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.lists(STEP, min_size=1, max_size=12))
def test_cached_rows_equal_recomputed_rows_after_any_changes(steps) -> None:
    paths = [Path(f"/night/r{i}.wav") for i in range(4)]
    recordings = {p: SurveyRecording(_analysis(p, 2.0 + i, i), "a" * 64) for i, p in
                  enumerate(paths)}  # fmt: skip
    thresholds: dict[str, float] = {}
    combine = "mean"
    decisions: list[Decision] = []
    cache = RecordingRowsCache()

    def survey() -> Survey:
        return Survey.of(recordings.values(), ThresholdSettings(dict(thresholds), combine),
                         decisions)  # fmt: skip

    for kind, a, b in [("none", None, None), *steps]:
        if kind == "threshold":
            thresholds[LABELS[a]] = b
        elif kind == "combine":
            combine = a
        elif kind == "decide":  # an event's span when there is one, else any span
            rows = recording_rows(survey())[a].rows
            if rows:
                row = rows[b % len(rows)]
                decisions.append(
                    Decision(
                        row.path,
                        row.species_auto,
                        row.start_s,
                        row.end_s,
                        ["confirmed", "rejected"][b % 2],
                        row.species_auto,
                    )
                )
            else:
                decisions.append(Decision(paths[a], LABELS[12], 0.0, 1.024, "confirmed",
                                          LABELS[12]))  # fmt: skip
        elif kind == "undecide":
            decisions = [d for d in decisions if d.path != paths[a]]
        elif kind == "review":
            recordings[paths[a]] = replace(recordings[paths[a]],
                                           review=RecordingReview(reviewed=b))  # fmt: skip
        elif kind == "reanalyse":
            recordings[paths[a]] = replace(recordings[paths[a]],
                                           analysis=_analysis(paths[a], 2.0 + a, b))  # fmt: skip
        elif kind == "model_set":
            recordings[paths[a]] = replace(recordings[paths[a]], model_set_id=b)
        current = survey()
        assert _comparable(cache.recording_rows(current)) == _comparable(recording_rows(current))


def test_a_decision_or_an_unreached_threshold_rebuilds_only_what_it_touches() -> None:
    paths = [Path(f"/night/r{i}.wav") for i in range(3)]
    recordings = [SurveyRecording(_analysis(p, 3.0, i)) for i, p in enumerate(paths)]
    cache = RecordingRowsCache()
    first = cache.recording_rows(Survey.of(recordings, ThresholdSettings()))
    row = next(r for r in first[1].rows)
    decision = Decision(row.path, row.species_auto, row.start_s, row.end_s, "confirmed",
                        row.species_auto)  # fmt: skip
    second = cache.recording_rows(Survey.of(recordings, ThresholdSettings(), [decision]))
    assert second[0] is first[0]
    assert second[2] is first[2]
    assert second[1] is not first[1]
    assert second[1].rows[0].status == "confirmed"
    # Label 0's probabilities stay far below 0.9 and 0.95: no recording's events change.
    low = ThresholdSettings({LABELS[0]: 0.9})
    third = cache.recording_rows(Survey.of(recordings, low, [decision]))
    lower = ThresholdSettings({LABELS[0]: 0.95})
    assert all(a is b for a, b in zip(third, cache.recording_rows(
        Survey.of(recordings, lower, [decision])), strict=True))  # fmt: skip
