"""Positions given to folders of recordings that carry none (no GUANO ``Loc Position``), kept in
the review store so that the window's figures, File → Export report… and ``bsgbat-gui report``
place their passes relative to the sun alike.

Kept as JSON under the store's meta key :data:`SITE_POSITIONS_META`, each folder by the store's
portable key (relative to the store's folder when inside it), so a survey folder moved with its
store keeps them. A recording's own GUANO position always wins over its folder's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from bsgbat_gui.core.evaluation.night_activity import PositionError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bsgbat_gui.core.evaluation.night_activity import Position
    from bsgbat_gui.core.review.store import ReviewStore

SITE_POSITIONS_META = "site_positions"
SITE_POSITIONS_FORMAT = "bsgbat-site-positions"


def save_site_positions(store: ReviewStore, positions: Mapping[str, Position]) -> None:
    """Keep ``positions`` (absolute folder path → latitude, longitude) in ``store``, replacing
    the ones kept before.
    """
    document = {
        "format": SITE_POSITIONS_FORMAT,
        "version": 1,
        "folders": [
            {"folder": store.key(Path(folder)), "latitude": lat, "longitude": lon}
            for folder, (lat, lon) in sorted(positions.items())
        ],
    }
    store.set_meta(SITE_POSITIONS_META, json.dumps(document, indent=1))


def load_site_positions(store: ReviewStore) -> dict[str, Position]:
    """The positions kept in ``store`` by absolute folder path ({} when none). Raises
    :class:`PositionError` when they cannot be read.
    """
    text = store.get_meta(SITE_POSITIONS_META)
    if not text:
        return {}
    try:
        document = json.loads(text)
        if document.get("format") != SITE_POSITIONS_FORMAT:
            raise PositionError("the site positions kept are not in a known format")
        found: dict[str, Position] = {}
        for entry in document["folders"]:
            lat, lon = float(entry["latitude"]), float(entry["longitude"])
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise PositionError(f"a kept position is out of range: {lat}, {lon}")
            found[str(store.path_of(str(entry["folder"])))] = (lat, lon)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise PositionError(f"the site positions kept cannot be read: {exc}") from None
    return found
