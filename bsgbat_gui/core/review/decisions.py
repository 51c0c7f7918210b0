"""Review decisions: on detection events (confirmed / rejected / relabelled, with note,
reviewer and time) and on whole recordings (reviewed, "no bats", a manual species list).

A decision is stored with the event's species and span, so that it stays attached when
thresholds reshape the event (:func:`attach_decisions`). Every write is committed on return; an
import of many is one transaction (:meth:`DecisionRecords.apply_changes`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.files import canonical_path
from bsgbat_gui.core.review.connection import StoreConnection

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

STATUS_CONFIRMED = "confirmed"
STATUS_REJECTED = "rejected"
STATUS_RELABELLED = "relabelled"
DECISION_STATUSES = (STATUS_CONFIRMED, STATUS_REJECTED, STATUS_RELABELLED)
MIN_OVERLAP_FRACTION = 0.25  # of the shorter span: see attach_decisions
# Relabel targets besides the model's species.
OTHER_LABELS = ("unidentified bat", "social call", "noise", "feeding buzz", "not a bat")


@dataclass(frozen=True)
class Decision:
    """A review decision on one detection event (its species and span when decided)."""

    path: Path
    species: str
    start_s: float
    end_s: float
    status: str
    final_species: str = ""  # the confirmed or relabelled species ("" when rejected)
    note: str = ""
    reviewer: str = ""
    decided_at: str = ""  # ISO 8601 with the UTC offset
    id: int | None = None


@dataclass(frozen=True)
class RecordingReview:
    """A reviewer's marks on a whole recording: reviewed, no bats, species list."""

    reviewed: bool = False
    no_bats: bool = False
    manual_species: tuple[str, ...] = ()


def now_iso() -> str:
    """The local time with its UTC offset, to the second."""
    return dt.datetime.now().astimezone().replace(microsecond=0).isoformat()


class DecisionRecords(StoreConnection):
    """The decisions table and the recordings' review marks of a review store."""

    def recording_review(self, path: Path) -> RecordingReview:
        """The marks of one recording (none when never marked)."""
        row = self._conn.execute(
            "SELECT reviewed, no_bats, manual_species_json FROM recordings WHERE path = ?",
            (self.key(path),),
        ).fetchone()
        if row is None:
            return RecordingReview()
        return RecordingReview(bool(row[0]), bool(row[1]), tuple(json.loads(row[2])))

    def recording_reviews(self) -> dict[Path, RecordingReview]:
        """Every recording's review marks, in one query (recordings never marked: absent)."""
        # Only the marked ones: a season's store holds 100,000 recordings, nearly all unmarked
        # (an absent one reads as unmarked, the same thing).
        rows = self._conn.execute(
            "SELECT path, reviewed, no_bats, manual_species_json FROM recordings"
            " WHERE reviewed OR no_bats OR COALESCE(manual_species_json, '[]') NOT IN ('[]', '')"
        ).fetchall()
        return {
            self.path_of(r[0]): RecordingReview(bool(r[1]), bool(r[2]), tuple(json.loads(r[3])))
            for r in rows
        }

    def set_recording_review(self, path: Path, review: RecordingReview) -> None:
        """Store a recording's marks (committed on return)."""
        rid = self._recording_id(path, create=True)
        self._write(
            "UPDATE recordings SET reviewed = ?, no_bats = ?, manual_species_json = ? "
            "WHERE id = ?",
            (int(review.reviewed), int(review.no_bats), json.dumps(list(review.manual_species)),
             rid),
        )  # fmt: skip

    def put_decision(self, decision: Decision) -> Decision:
        """Store a decision (a new one, or replace the one with its id); committed on return."""
        if decision.status not in DECISION_STATUSES:
            raise ValueError(f"unknown decision status {decision.status!r}")
        decided_at = decision.decided_at or now_iso()
        rid = self._recording_id(decision.path, create=True)
        values = (
            rid, decision.species, decision.start_s, decision.end_s, decision.status,
            decision.final_species, decision.note, decision.reviewer, decided_at,
        )  # fmt: skip
        if decision.id is None:
            cursor = self._write(
                "INSERT INTO decisions(recording_id, species, start_s, end_s, status,"
                " final_species, note, reviewer, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            return replace(
                decision, path=canonical_path(decision.path), id=cursor.lastrowid,
                decided_at=decided_at,
            )  # fmt: skip
        self._write(
            "INSERT OR REPLACE INTO decisions(recording_id, species, start_s, end_s, status,"
            " final_species, note, reviewer, decided_at, id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, decision.id),
        )
        return replace(decision, path=canonical_path(decision.path), decided_at=decided_at)

    def delete_decision(self, decision_id: int) -> None:
        """Remove a decision (committed on return)."""
        self._write("DELETE FROM decisions WHERE id = ?", (decision_id,))

    def apply_changes(
        self, changes: Sequence[tuple[Decision | None, Decision | None]]
    ) -> list[Decision | None]:
        """Replace each ``before`` by its ``after`` (None: no decision), all in one transaction
        (an import of many rows is either all in the store or not at all). Returns the stored
        ``after`` decisions (with their ids).
        """
        stored: list[Decision | None] = []
        with self._transaction():
            for before, after in changes:
                if after is None:
                    if before is not None and before.id is not None:
                        self.delete_decision(before.id)
                    stored.append(None)
                else:
                    stored.append(self.put_decision(after))
        return stored

    def decisions(self) -> list[Decision]:
        """Every decision, in the order made (by id)."""
        rows = self._conn.execute(
            "SELECT r.path, d.species, d.start_s, d.end_s, d.status, d.final_species, d.note,"
            " d.reviewer, d.decided_at, d.id FROM decisions d"
            " JOIN recordings r ON r.id = d.recording_id ORDER BY d.id"
        ).fetchall()
        return [Decision(self.path_of(r[0]), *r[1:]) for r in rows]


def attach_decisions(
    event_paths: Sequence[Path],
    event_labels: Sequence[str],
    starts: npt.ArrayLike,
    ends: npt.ArrayLike,
    decisions: Iterable[Decision],
) -> npt.NDArray[np.intp]:
    """For each event, the index (into ``decisions``) of the decision attached to it, or -1.

    A decision is attached to the events of the same recording and species whose span overlaps
    the span it was made on by more than a quarter of the shorter of the two — so it survives a
    threshold change that moves, shrinks, splits or merges the event, but does not spill onto
    the neighbouring event (which shares 24 ms of window with it). When several decisions overlap
    one event, the one with the largest overlap wins (ties: the most recent).

    Paths are compared as given: pass resolved paths (the store returns resolved ones), so this
    stays free of file-system calls. The window, which holds its events as index columns, calls
    :func:`attach_decisions_indexed` directly.
    """
    decision_list = list(decisions)
    keys: dict[tuple[Path, str], int] = {}
    event_key = np.fromiter(
        (keys.setdefault(key, len(keys)) for key in zip(event_paths, event_labels, strict=True)),
        np.int64,
        len(event_paths),
    )
    decision_key = np.fromiter(
        (keys.get((d.path, d.species), -1) for d in decision_list), np.int64, len(decision_list)
    )
    return attach_decisions_indexed(
        event_key,
        starts,
        ends,
        decision_key,
        [d.start_s for d in decision_list],
        [d.end_s for d in decision_list],
    )


def attach_decisions_indexed(
    event_key: npt.ArrayLike,
    starts: npt.ArrayLike,
    ends: npt.ArrayLike,
    decision_key: npt.ArrayLike,
    decision_starts: npt.ArrayLike,
    decision_ends: npt.ArrayLike,
) -> npt.NDArray[np.intp]:
    """:func:`attach_decisions` on columns: events and decisions identified by an integer key
    (the same key: the same recording and species; a decision keyed -1 matches nothing).

    Vectorised over every (event, decision) pair of equal key, so a season's ~1 M events and
    tens of thousands of decisions are matched in a few numpy passes, not a Python loop.
    """
    e_key = np.asarray(event_key, dtype=np.int64)
    e_start = np.asarray(starts, dtype=np.float64)
    e_end = np.asarray(ends, dtype=np.float64)
    d_key = np.asarray(decision_key, dtype=np.int64)
    d_start = np.asarray(decision_starts, dtype=np.float64)
    d_end = np.asarray(decision_ends, dtype=np.float64)
    attached = np.full(len(e_key), -1, dtype=np.intp)
    usable = np.flatnonzero(d_key >= 0)
    if not len(usable) or not len(e_key):
        return attached
    # Decisions sorted by key (then index): each event's candidates are one contiguous run.
    by_key = usable[np.lexsort((usable, d_key[usable]))]
    sorted_keys = d_key[by_key]
    first = np.searchsorted(sorted_keys, e_key, side="left")
    count = np.searchsorted(sorted_keys, e_key, side="right") - first
    has = np.flatnonzero(count)
    if not len(has):
        return attached
    # Every (event, candidate decision) pair, laid out event by event.
    pair_event = np.repeat(has, count[has])
    run_starts = np.concatenate([[0], np.cumsum(count[has])[:-1]])
    within = np.arange(len(pair_event)) - np.repeat(run_starts, count[has])
    pair_decision = by_key[np.repeat(first[has], count[has]) + within]
    overlap = np.minimum(e_end[pair_event], d_end[pair_decision]) - np.maximum(
        e_start[pair_event], d_start[pair_decision]
    )
    # Windows two apart overlap by 24 ms, so neighbouring events of one species do too: that
    # is adjacency, not the same event. A real overlap covers a good part of the shorter span
    # (a shrunk or split event keeps at least one whole window of it).
    shorter = np.minimum(
        e_end[pair_event] - e_start[pair_event], d_end[pair_decision] - d_start[pair_decision]
    )
    same_event = overlap > MIN_OVERLAP_FRACTION * shorter
    pair_event, pair_decision, overlap = (
        pair_event[same_event], pair_decision[same_event], overlap[same_event]
    )  # fmt: skip
    if not len(pair_event):
        return attached
    # Per event, the largest overlap; among equal overlaps the later decision (higher index).
    best = np.lexsort((pair_decision, overlap, pair_event))
    last_of_event = np.flatnonzero(np.diff(pair_event[best], append=-1) != 0)
    winners = best[last_of_event]
    attached[pair_event[winners]] = pair_decision[winners]
    return attached
