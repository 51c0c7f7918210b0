"""Where the review keys go: the detection a decision applies to, Right/Left through a recording
and on to the next, "next unreviewed recording", and each recording's review state.

The rule a reviewer can trust: **a decision applies to the selected detection of the recording
shown**, never to one of another recording. Moving with Right/Left stays in the shown recording
(in time order) and only then goes on to the next or previous recording that has detections,
saying so. Everything here is plain data (no Qt): the window passes the order its tables show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from bsgbat_gui.core.analysis.detections import SurveyDetections
    from bsgbat_gui.core.review.decisions import RecordingReview

# A recording's review state, as the recordings table, its filter and the status bar say it.
STATE_UNREVIEWED = "unreviewed"  # detections, none decided, not marked
STATE_PARTLY = "partly reviewed"  # some of its detections decided
STATE_REVIEWED = "reviewed"  # marked reviewed, or every detection decided
STATE_NO_BATS = "no bats"  # marked as holding no bat
STATE_NOTHING = "no detections"  # nothing detected at the thresholds, not marked
REVIEW_STATES = (STATE_UNREVIEWED, STATE_PARTLY, STATE_REVIEWED, STATE_NO_BATS, STATE_NOTHING)
NEEDS_REVIEW = (STATE_UNREVIEWED, STATE_PARTLY)


def review_state(total: int, decided: int, review: RecordingReview) -> str:
    """The state of a recording with ``total`` detections, ``decided`` of them decided."""
    if review.no_bats:
        return STATE_NO_BATS
    if review.reviewed or (total and decided >= total):
        return STATE_REVIEWED
    if decided:
        return STATE_PARTLY
    return STATE_UNREVIEWED if total else STATE_NOTHING


def review_state_text(total: int, decided: int, review: RecordingReview) -> str:
    """Short text for a table cell: ``2 / 5``, ``✓ 5 / 5``, ``no bats``, ``—``."""
    state = review_state(total, decided, review)
    if state == STATE_NO_BATS:
        return "no bats"
    if state == STATE_REVIEWED:
        return f"✓ {decided} / {total}" if total else "✓"
    if state == STATE_NOTHING:
        return "—"
    return f"{decided} / {total}"


@dataclass(frozen=True)
class Step:
    """Where a Right/Left press goes: an event (index into the detections' events) in
    ``path``, or nowhere; ``crossed`` when it leaves the shown recording; ``message`` a hint.
    """

    event: int | None
    path: Path | None
    crossed: bool = False
    message: str = ""


@dataclass(frozen=True)
class RecordingOrder:
    """The recordings in the order a table shows them: ``rows`` (indices into ``paths``, the
    opened recordings), filtered and sorted. Kept as an index array, so that a season's
    100,000 recordings are walked with numpy, not compared path by path.
    """

    paths: Sequence[Path]
    rows: npt.NDArray[np.intp]
    row_of: Mapping[Path, int]

    @staticmethod
    def of(order: Sequence[Path] | RecordingOrder) -> RecordingOrder:
        """``order`` as a :class:`RecordingOrder` (a list of paths: every one shown, in order)."""
        if isinstance(order, RecordingOrder):
            return order
        paths = list(order)
        return RecordingOrder(
            paths, np.arange(len(paths), dtype=np.intp), {p: k for k, p in enumerate(paths)}
        )

    def __len__(self) -> int:
        return len(self.rows)

    def position(self, path: Path | None) -> int | None:
        """Where ``path`` is shown (None when hidden or not opened)."""
        row = self.row_of.get(path) if path is not None else None
        if row is None:
            return None
        found = np.flatnonzero(self.rows == row)
        return int(found[0]) if len(found) else None

    def path_at(self, position: int) -> Path:
        """The recording shown at ``position``."""
        return self.paths[int(self.rows[position])]


def events_in_time_order(
    detections: SurveyDetections, candidates: npt.NDArray[np.intp], path: Path
) -> npt.NDArray[np.intp]:
    """The ``candidates`` (event indices, e.g. the rows a table shows) of ``path``, in time
    order (then by species).
    """
    index = detections.index_of(path)
    if index is None or not len(candidates):
        return np.empty(0, dtype=np.intp)
    mine = candidates[detections.recording_index[candidates] == index]
    ev = detections.events
    ordered: npt.NDArray[np.intp] = mine[np.lexsort((ev.label_index[mine], ev.start_s[mine]))]
    return ordered


def step_event(
    detections: SurveyDetections,
    candidates: npt.NDArray[np.intp],
    recording_order: Sequence[Path] | RecordingOrder,
    current_path: Path | None,
    current_event: int | None,
    step: int,
) -> Step:
    """The event after (``step`` 1) or before (-1) ``current_event`` in the shown recording; at
    its first or last one, the first (or last) event of the next (previous) recording in
    ``recording_order`` that has one of ``candidates``.
    """
    if current_path is not None:
        mine = events_in_time_order(detections, candidates, current_path)
        if len(mine):
            found = np.flatnonzero(mine == current_event) if current_event is not None else None
            if found is None or not len(found):  # nothing of it selected: start at its end
                return Step(int(mine[0] if step > 0 else mine[-1]), current_path)
            k = int(found[0]) + step
            if 0 <= k < len(mine):
                return Step(int(mine[k]), current_path)
    order = RecordingOrder.of(recording_order)
    position = order.position(current_path)
    start = position if position is not None else (-1 if step > 0 else len(order))
    # Only recordings with a candidate event are looked at closely.
    with_events = set(np.unique(detections.recording_index[candidates]).tolist())
    k = start + step
    while 0 <= k < len(order):
        path = order.path_at(k)
        if detections.index_of(path) in with_events:
            theirs = events_in_time_order(detections, candidates, path)
            event = int(theirs[0] if step > 0 else theirs[-1])
            where = "first" if step > 0 else "last"
            return Step(
                event, path, crossed=True,
                message=f"{'Next' if step > 0 else 'Previous'} recording: {path.name} "
                f"({where} detection)",
            )  # fmt: skip
        k += step
    if step > 0:
        return Step(None, None, message="The last detection: no later recording has detections")
    return Step(None, None, message="The first detection: no earlier recording has detections")


def next_to_review(
    recording_order: Sequence[Path] | RecordingOrder,
    states: Mapping[Path, str] | npt.NDArray[np.bool_],
    current: Path | None,
) -> Path | None:
    """The next recording after ``current`` (wrapping round) that still needs review.

    ``states``: each recording's review state, or (on a :class:`RecordingOrder`) a bool per
    one of its ``paths``: needs review.
    """
    order = RecordingOrder.of(recording_order)
    if not len(order):
        return None
    if isinstance(states, np.ndarray):
        needs = np.asarray(states, dtype=bool)
    else:
        needs = np.array([states.get(p) in NEEDS_REVIEW for p in order.paths], dtype=bool)
    shown_needs = needs[order.rows]
    position = order.position(current)
    if position is not None:
        shown_needs[position] = False  # not the one shown
    start = position if position is not None else -1
    after = np.roll(shown_needs, -(start + 1))  # positions start + 1, ..., then from 0
    if not after.any():
        return None
    return order.path_at((start + 1 + int(np.argmax(after))) % len(order))
