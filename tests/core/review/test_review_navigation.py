"""Review navigation without a window: review states, Right/Left within a recording then on to
the next with detections, the next recording to review."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bsgbat_gui.core.analysis.detections import DetectionEvents, SurveyDetections
from bsgbat_gui.core.review.decisions import RecordingReview
from bsgbat_gui.core.review.navigation import (
    STATE_NO_BATS,
    STATE_NOTHING,
    STATE_PARTLY,
    STATE_REVIEWED,
    STATE_UNREVIEWED,
    next_to_review,
    review_state,
    review_state_text,
    step_event,
)

A, B, C = Path("/s/a.wav"), Path("/s/b.wav"), Path("/s/c.wav")


def survey() -> SurveyDetections:
    """a: events at 2 s and 0 s (out of time order, as events come by label); b: none;
    c: one at 1 s."""
    starts = np.array([2.0, 0.0, 1.0])
    n = len(starts)
    events = DetectionEvents(
        label_index=np.array([3, 1, 0]), first_segment=np.zeros(n, int),
        last_segment=np.zeros(n, int), max_prob=np.full(n, 0.9), mean_prob=np.full(n, 0.9),
        start_s=starts, end_s=starts + 1.0,
    )  # fmt: skip
    return SurveyDetections(events, np.array([0, 0, 2]), (A, B, C))


def test_review_states() -> None:
    none = RecordingReview()
    assert review_state(5, 0, none) == STATE_UNREVIEWED
    assert review_state(5, 2, none) == STATE_PARTLY
    assert review_state(5, 5, none) == STATE_REVIEWED
    assert review_state(5, 1, RecordingReview(reviewed=True)) == STATE_REVIEWED
    assert review_state(5, 1, RecordingReview(no_bats=True)) == STATE_NO_BATS
    assert review_state(0, 0, none) == STATE_NOTHING
    assert review_state_text(5, 2, none) == "2 / 5"
    assert review_state_text(5, 5, none) == "✓ 5 / 5"
    assert review_state_text(5, 1, RecordingReview(no_bats=True)) == "no bats"


def test_steps_stay_in_the_recording_in_time_order_then_move_on() -> None:
    d = survey()
    every = np.arange(3)
    order = [A, B, C]
    # Nothing selected in a: its first (in time), or with Left its last.
    assert step_event(d, every, order, A, None, 1).event == 1
    assert step_event(d, every, order, A, None, -1).event == 0
    assert step_event(d, every, order, A, 1, 1).event == 0  # 0 s -> 2 s
    # Past a's last: c's first (b has none), said.
    onward = step_event(d, every, order, A, 0, 1)
    assert (onward.event, onward.path, onward.crossed) == (2, C, True)
    assert "Next recording: c.wav" in onward.message
    back = step_event(d, every, order, C, 2, -1)
    assert (back.event, back.path) == (0, A)
    assert "Previous recording" in back.message
    end = step_event(d, every, order, C, 2, 1)
    assert end.event is None
    assert "last detection" in end.message
    # Only the rows a table shows count (a filter hid a's 2 s event).
    assert step_event(d, np.array([1, 2]), order, A, 1, 1).event == 2
    # From a recording without detections: the next one that has some.
    assert step_event(d, every, order, B, None, 1).path == C


def test_next_recording_to_review_wraps_and_skips_the_done() -> None:
    states = {A: STATE_REVIEWED, B: STATE_UNREVIEWED, C: STATE_PARTLY}
    assert next_to_review([A, B, C], states, A) == B
    assert next_to_review([A, B, C], states, B) == C
    assert next_to_review([A, B, C], states, C) == B  # wraps round
    assert next_to_review([A, B, C], {**states, B: STATE_NO_BATS}, C) is None
