"""The vectorised decision attachment equals the rule as first written (a loop per recording and
species), on random surveys with overlapping, adjacent, split and tied decisions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bsgbat_gui.core.review.decisions import (
    MIN_OVERLAP_FRACTION,
    Decision,
    attach_decisions,
    attach_decisions_indexed,
)


def attach_by_loop(paths, labels, starts, ends, decisions):
    """The rule written plainly, one (recording, species) at a time, one event at a time."""
    attached = np.full(len(starts), -1, dtype=np.intp)
    for i in range(len(starts)):
        best, best_overlap = -1, -np.inf
        for k, d in enumerate(decisions):
            if (d.path, d.species) != (paths[i], labels[i]):
                continue
            overlap = min(ends[i], d.end_s) - max(starts[i], d.start_s)
            shorter = min(ends[i] - starts[i], d.end_s - d.start_s)
            if overlap > MIN_OVERLAP_FRACTION * shorter and overlap >= best_overlap:
                best, best_overlap = k, overlap
        attached[i] = best
    return attached


@pytest.mark.parametrize("seed", range(12))
def test_vectorised_attachment_equals_the_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    recordings = [Path(f"/survey/rec-{k}.wav") for k in range(5)]
    species = ["Pippip", "Nycnoc", "Eptser"]
    n_events = int(rng.integers(0, 60))
    paths = [recordings[int(k)] for k in rng.integers(0, 5, n_events)]
    labels = [species[int(k)] for k in rng.integers(0, 3, n_events)]
    # Window-grid spans (0.5 s hop, 1.024 s long): neighbours share 24 ms, as in the app.
    first = rng.integers(0, 8, n_events)
    starts = first * 0.5
    ends = (first + rng.integers(0, 3, n_events)) * 0.5 + 1.024
    decisions = []
    for _ in range(int(rng.integers(0, 25))):
        d_first = int(rng.integers(0, 8))
        decisions.append(
            Decision(
                path=recordings[int(rng.integers(0, 6)) % 5]
                if rng.random() < 0.9
                else Path("/elsewhere/other.wav"),
                species=species[int(rng.integers(0, 3))],
                start_s=d_first * 0.5,
                end_s=(d_first + int(rng.integers(0, 3))) * 0.5 + 1.024,
                status="confirmed",
            )
        )
    expected = attach_by_loop(paths, labels, starts, ends, decisions)
    assert np.array_equal(attach_decisions(paths, labels, starts, ends, decisions), expected)


def test_indexed_attachment_ignores_decisions_keyed_minus_one() -> None:
    attached = attach_decisions_indexed(
        [3, 3], [0.0, 2.0], [1.0, 3.0], [-1, 3], [0.0, 0.5], [1.0, 1.5]
    )
    assert attached.tolist() == [1, -1]
