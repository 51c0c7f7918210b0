"""Probability tracks are steps: one value per window, over the time nearest its centre."""

from __future__ import annotations

import numpy as np
import pytest

from bsgbat_gui.core.audio.segments import segment_windows
from bsgbat_gui.core.model_card import FRAME_S
from bsgbat_gui.gui.track_view import step_edges


def test_one_padded_window_covers_the_whole_short_clip() -> None:
    windows = segment_windows(250, duration_s=0.5)
    assert step_edges(tuple(windows), 0.5).tolist() == [0.0, 0.5]


@pytest.mark.parametrize("n_frames", [512, 513, 1000, 1012, 1500, 5000])
def test_steps_tile_the_recording_in_order(n_frames: int) -> None:
    duration = n_frames * FRAME_S
    windows = tuple(segment_windows(n_frames, duration_s=duration))
    edges = step_edges(windows, duration)
    assert len(edges) == len(windows) + 1
    assert edges[0] == 0.0
    assert edges[-1] == pytest.approx(duration)
    assert np.all(np.diff(edges) > 0)
    # Every window's centre lies inside its own step.
    for window, lo, hi in zip(windows, edges[:-1], edges[1:], strict=True):
        centre = (window.start_s + window.end_s) / 2
        assert lo <= centre <= hi
