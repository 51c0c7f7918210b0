"""The selected detection (a reference to an event by recording, species and span) and how the
review store keeps it, so a reopened survey shows the detection it was left on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from bsgbat_gui.core.review.connection import StoreConnection

SELECTION_META = "selection"  # the review store's meta key


@dataclass(frozen=True)
class SelectedEvent:
    """A detection event by what identifies it across threshold changes."""

    path: Path
    label: str
    start_s: float
    end_s: float


def selection_to_json(event: SelectedEvent, store: StoreConnection) -> str:
    """The selection as the store keeps it (its path relative to the survey, like the rest)."""
    return json.dumps(
        {"path": store.key(event.path), "label": event.label, "start_s": event.start_s,
         "end_s": event.end_s}
    )  # fmt: skip


def selection_from_json(text: str | None, store: StoreConnection) -> SelectedEvent | None:
    """The selection kept by :func:`selection_to_json` (None when absent or unreadable)."""
    if not text:
        return None
    try:
        d = json.loads(text)
        return SelectedEvent(
            store.path_of(str(d["path"])), str(d["label"]), float(d["start_s"]),
            float(d["end_s"]),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError):
        return None


def species_from_json(text: str | None) -> tuple[str, ...] | None:
    """A species list kept as JSON (None when absent, unreadable or not a list)."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return tuple(str(x) for x in value) if isinstance(value, list) else None
