"""The window grid (card grid + tail + padded) and the card's per-segment normalisation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bsgbat_gui.core.audio.segments import (
    FLAG_PADDED,
    FLAG_TAIL,
    normalise_segment,
    segment_windows,
)


def card_grid_starts(n_frames: int) -> list[int]:
    # The card's loop: range(0, max(len(S) - ntime, 0) + 1, nhop)
    return list(range(0, max(n_frames - 512, 0) + 1, 250))


@given(st.integers(min_value=512, max_value=40_000))
def test_grid_is_the_cards_plus_a_tail_only_when_the_end_is_missed(n_frames: int) -> None:
    windows = segment_windows(n_frames, duration_s=n_frames * 0.002)
    grid = [w for w in windows if w.flag == ""]
    assert [w.start_frame for w in grid] == card_grid_starts(n_frames)
    tails = [w for w in windows if w.flag == FLAG_TAIL]
    misses_end = card_grid_starts(n_frames)[-1] + 512 < n_frames
    assert len(tails) == (1 if misses_end else 0)
    if tails:
        assert windows[-1] is tails[0]
        assert tails[0].start_frame == n_frames - 512
    # Every frame is covered by some window.
    covered = np.zeros(n_frames, bool)
    for w in windows:
        covered[w.start_frame : w.start_frame + 512] = True
    assert covered.all()
    assert [w.index for w in windows] == list(range(len(windows)))


def test_segment_i_starts_at_half_seconds_and_spans_1_024_s() -> None:
    windows = segment_windows(3000, duration_s=6.0)
    assert windows[3].start_s == pytest.approx(1.5)
    assert windows[3].end_s - windows[3].start_s == pytest.approx(1.024)


def test_short_recording_gets_one_padded_window_clipped_to_its_duration() -> None:
    windows = segment_windows(251, duration_s=0.5)
    assert len(windows) == 1
    assert windows[0].flag == FLAG_PADDED
    assert (windows[0].start_s, windows[0].end_s) == (0.0, 0.5)


def test_normalisation_matches_the_card() -> None:
    rng = np.random.default_rng(0)
    seg = np.log10(rng.gamma(0.5, 1e-3, size=(512, 128)).astype(np.float32) + 1e-6)
    expected = (seg - seg.mean()) / seg.std()
    expected = np.clip(expected - np.median(expected, axis=0), 0.0, 6.0).astype(np.float32)
    np.testing.assert_array_equal(normalise_segment(seg), expected)


def test_constant_window_normalises_to_zeros_not_nan() -> None:
    silent = np.full((512, 128), -6.0, np.float32)
    out = normalise_segment(silent)
    assert out.dtype == np.float32
    assert np.all(out == 0)
