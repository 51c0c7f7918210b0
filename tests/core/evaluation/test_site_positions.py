"""Folder positions kept in the review store: portable keys, read back as absolute folders,
unreadable ones refused with one clear line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bsgbat_gui.core.evaluation.night_activity import PositionError
from bsgbat_gui.core.evaluation.site_positions import (
    SITE_POSITIONS_META,
    load_site_positions,
    save_site_positions,
)
from bsgbat_gui.core.review.store import ReviewStore

if TYPE_CHECKING:
    from pathlib import Path


def test_positions_round_trip_and_move_with_the_survey_folder(tmp_path: Path) -> None:
    survey = tmp_path / "survey"
    (survey / "north").mkdir(parents=True)
    with ReviewStore.open(survey / "bsgbat-review.sqlite") as store:
        assert load_site_positions(store) == {}
        outside = tmp_path / "elsewhere"
        save_site_positions(
            store, {str(survey.resolve() / "north"): (52.1, 4.3), str(outside): (-33.9, 18.4)}
        )
        assert load_site_positions(store) == {
            str(survey.resolve() / "north"): (52.1, 4.3),
            str(outside): (-33.9, 18.4),
        }
    moved = tmp_path / "moved"
    survey.rename(moved)
    with ReviewStore.open(moved / "bsgbat-review.sqlite") as store:
        assert load_site_positions(store)[str(moved.resolve() / "north")] == (52.1, 4.3)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "cannot be read"),
        ('{"format": "other", "folders": []}', "known format"),
        ('{"format": "bsgbat-site-positions", "folders": [{"folder": "a"}]}', "cannot be read"),
        ('{"format": "bsgbat-site-positions", "folders": '
         '[{"folder": "a", "latitude": 91, "longitude": 0}]}', "out of range"),
    ],
)  # fmt: skip
def test_unreadable_positions_are_refused_with_one_line(
    tmp_path: Path, text: str, says: str
) -> None:
    with ReviewStore.open(tmp_path / "bsgbat-review.sqlite") as store:
        store.set_meta(SITE_POSITIONS_META, text)
        with pytest.raises(PositionError, match=says):
            load_site_positions(store)
