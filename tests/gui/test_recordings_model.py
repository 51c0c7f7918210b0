"""The recordings table filters and sorts with numpy: the rows and their order are the ones the
texts the table shows give (what a QSortFilterProxyModel over those texts gave)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from bsgbat_gui.core.session.recordings import RecordingList
from bsgbat_gui.core.species import SPECIES, species_for_label
from bsgbat_gui.gui.recordings_panel import COL_NAME, COL_SPECIES, RecordingsModel

LABELS = tuple(s.scientific_name for s in SPECIES)


def survey(n: int, seed: int) -> tuple[RecordingList, RecordingsModel]:
    rng = np.random.default_rng(seed)
    recordings = RecordingList()
    model = RecordingsModel(recordings)
    names = [f"rec-{int(k):05d}.wav" for k in rng.permutation(n)]
    recordings.set_paths([Path("/survey") / name for name in names], "done")
    recordings.set_labels(LABELS)
    masks = np.zeros(n, dtype=np.uint64)
    for i in range(n):
        for k in rng.choice(len(LABELS) - 1, size=int(rng.integers(0, 4)), replace=False):
            masks[i] |= np.uint64(1) << np.uint64(k)
    recordings.set_species_masks(masks)
    total = rng.integers(0, 5, n)
    decided = np.array([int(rng.integers(0, t + 1)) for t in total])
    no_bats = np.zeros(n, dtype=bool)
    no_bats[0] = True  # the first recording marked 'no bats'
    recordings.set_review_columns(decided, total, np.zeros(n, dtype=bool), no_bats)
    return recordings, model


def shown(model: RecordingsModel, column: int) -> list[str]:
    return [model.index(r, column).data() for r in range(model.rowCount())]


@pytest.mark.parametrize("seed", range(4))
def test_species_sort_is_the_order_of_the_texts_shown(qtbot, seed: int) -> None:
    _recordings, model = survey(400, seed)
    model.sort(COL_SPECIES, Qt.SortOrder.AscendingOrder)
    texts, names = shown(model, COL_SPECIES), shown(model, COL_NAME)
    assert list(zip(texts, names, strict=True)) == sorted(zip(texts, names, strict=True))
    model.sort(COL_SPECIES, Qt.SortOrder.DescendingOrder)
    texts = shown(model, COL_SPECIES)
    assert texts == sorted(texts, reverse=True)


@pytest.mark.parametrize("text", ["pippip", "nyctalus", "myo", "Eptser", "zzz"])
def test_species_filter_keeps_the_recordings_with_a_matching_species(qtbot, text: str) -> None:
    recordings, model = survey(300, 7)
    model.set_filter(status="", species_text=text)
    expected = sorted(
        p.name
        for i, p in enumerate(recordings.paths)
        if any(
            text.lower() in f"{label} {species_for_label(label).code}".lower()
            for label in recordings.species_of(i)
        )
    )
    assert shown(model, COL_NAME) == expected


def test_review_filter_and_position_follow_the_review_columns(qtbot) -> None:
    recordings, model = survey(200, 3)
    model.set_filter(status="", species_text="", review="no bats")
    assert shown(model, COL_NAME) == [recordings.paths[0].name]
    assert model.position_of(recordings.paths[0]) == 0
    assert model.position_of(recordings.paths[1]) is None
    model.set_filter(status="", species_text="", review="unreviewed")
    states = [recordings.state(i).review_state for i in range(len(recordings))]
    assert model.rowCount() == states.count("unreviewed")
