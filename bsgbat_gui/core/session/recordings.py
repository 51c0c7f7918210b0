"""The opened recordings and where each one stands: analysis status, what was found at the
current thresholds, how far its review is.

:class:`RecordingList` is the list the recordings table shows; every change says which rows it
touched (:attr:`RecordingList.changed`), so a view redraws those cells only — after each file of
a 1,000-file night, redrawing every row made the filters re-test every row.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from bsgbat_gui.core.review.decisions import RecordingReview
from bsgbat_gui.core.review.navigation import review_state, review_state_text

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

    from bsgbat_gui.core.analysis.analyse import RecordingAnalysis
    from bsgbat_gui.core.audio.recording import RecordingInfo

STATUS_QUEUED = "queued"
STATUS_ANALYSING = "analysing"
STATUS_DONE = "done"
STATUS_FAILED = "failed"
STATUS_NOT_ANALYSED = "not analysed"

# What a change touched, for a view to redraw the cells that show it.
CHANGED_ALL = "all"
CHANGED_SPECIES = "species"
CHANGED_REVIEW = "review"


@dataclass
class RecordingState:
    """One opened recording: its analysis status and results, and its review progress."""

    path: Path
    status: str = STATUS_QUEUED
    reason: str = ""  # why it failed or was not analysed
    info: RecordingInfo | None = None
    analysis: RecordingAnalysis | None = None
    progress: float = 0.0  # of the analysis under way, 0..1
    species: tuple[str, ...] = ()  # with detection events at the current thresholds
    from_cache: bool = False  # the analysis came from the review store
    events_reviewed: int = 0
    events_total: int = 0
    marked_reviewed: bool = False  # the whole recording, by the reviewer
    no_bats: bool = False

    @property
    def review(self) -> RecordingReview:
        """The recording-level marks (reviewed, no bats)."""
        return RecordingReview(reviewed=self.marked_reviewed, no_bats=self.no_bats)

    @property
    def review_state(self) -> str:
        """Where its review stands: unreviewed, partly reviewed, reviewed, no bats or no
        detections.
        """
        return review_state(self.events_total, self.events_reviewed, self.review)

    @property
    def review_text(self) -> str:
        """The review state as the recordings table shows it (``✓ 12 / 34``)."""
        return review_state_text(self.events_total, self.events_reviewed, self.review)


_FIELDS = frozenset(f.name for f in fields(RecordingState))


class RecordingList:
    """The opened recordings, in the order opened, found by path.

    Signals (psygnal)
    -----------------
    about_to_reset(), reset()
        Before and after every row is replaced (a folder opened).
    changed(rows: list[int], what: str)
        These rows changed: everything shown (``"all"``), their species or their review.
    """

    about_to_reset = Signal()
    reset = Signal()
    changed = Signal(list, str)

    def __init__(self) -> None:
        self.rows: list[RecordingState] = []
        self._row_of: dict[Path, int] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[RecordingState]:
        return iter(self.rows)

    def set_paths(self, paths: Sequence[Path], status: str = STATUS_QUEUED) -> None:
        """Replace every row by one per path, all with ``status``."""
        self.about_to_reset.emit()
        self.rows = [RecordingState(p, status=status) for p in paths]
        self._row_of = {p: i for i, p in enumerate(paths)}
        self.reset.emit()

    def row_for(self, path: Path) -> RecordingState | None:
        """The row of ``path`` (None when not opened)."""
        i = self._row_of.get(path)
        return None if i is None else self.rows[i]

    def index_of(self, path: Path) -> int | None:
        """The row number of ``path`` (None when not opened)."""
        return self._row_of.get(path)

    def update(self, path: Path, **changes: Any) -> None:
        """Change fields of ``path``'s row (a path not opened is ignored)."""
        unknown = set(changes) - _FIELDS
        if unknown:
            raise TypeError(f"RecordingState has no field(s) {sorted(unknown)}")
        i = self._row_of.get(path)
        if i is None:
            return
        for key, value in changes.items():
            setattr(self.rows[i], key, value)
        self.changed.emit([i], CHANGED_ALL)

    def paths_with_status(self, *statuses: str) -> list[Path]:
        """The paths whose status is one of ``statuses``, in order."""
        return [r.path for r in self.rows if r.status in statuses]

    def count(self, status: str) -> int:
        """How many rows have ``status``."""
        return sum(r.status == status for r in self.rows)

    def set_species(self, species: Mapping[Path, tuple[str, ...]]) -> None:
        """Each recording's detected species (recordings not listed have none)."""
        changed = []
        for i, row in enumerate(self.rows):
            found = species.get(row.path, ())
            if found != row.species:
                row.species = found
                changed.append(i)
        if changed:
            self.changed.emit(changed, CHANGED_SPECIES)

    def set_review_progress(
        self,
        counts: Mapping[Path, tuple[int, int]],
        marks: Mapping[Path, RecordingReview],
    ) -> None:
        """Per recording: (events reviewed, events) and its marks (absent: none)."""
        changed = []
        for i, row in enumerate(self.rows):
            progress = counts.get(row.path, (0, 0))
            review = marks.get(row.path, RecordingReview())
            mark = (review.reviewed, review.no_bats)
            if progress != (row.events_reviewed, row.events_total) or mark != (
                row.marked_reviewed, row.no_bats
            ):  # fmt: skip
                row.events_reviewed, row.events_total = progress
                row.marked_reviewed, row.no_bats = mark
                changed.append(i)
        if changed:
            self.changed.emit(changed, CHANGED_REVIEW)
