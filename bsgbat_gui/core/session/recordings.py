"""The opened recordings and where each one stands: analysis status, what was found at the
current thresholds, how far its review is.

:class:`RecordingList` holds them as **columns** (numpy arrays, one entry per recording), not as
one object per recording: a season opens 100,000 recordings, and the recordings table filters
and sorts them, and a threshold change updates every recording's species and review progress,
with a few array operations each. :meth:`RecordingList.row_for` gives one recording as a
:class:`RecordingState` (a snapshot) for code that looks at one at a time.

Every change says which rows it touched (:attr:`RecordingList.changed`), so a view redraws
those cells only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from psygnal import Signal

from bsgbat_gui.core.review.decisions import RecordingReview
from bsgbat_gui.core.review.navigation import (
    NEEDS_REVIEW,
    REVIEW_STATES,
    review_state,
    review_state_text,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from pathlib import Path

    from bsgbat_gui.core.analysis.analyse import RecordingAnalysis
    from bsgbat_gui.core.audio.recording import RecordingInfo

STATUS_QUEUED = "queued"
STATUS_ANALYSING = "analysing"
STATUS_DONE = "done"
STATUS_FAILED = "failed"
STATUS_NOT_ANALYSED = "not analysed"
STATUSES = (STATUS_QUEUED, STATUS_ANALYSING, STATUS_DONE, STATUS_FAILED, STATUS_NOT_ANALYSED)
STATUS_CODE = {status: code for code, status in enumerate(STATUSES)}
REVIEW_STATE_CODE = {state: code for code, state in enumerate(REVIEW_STATES)}

# What a change touched, for a view to redraw the cells that show it.
CHANGED_ALL = "all"
CHANGED_SPECIES = "species"
CHANGED_REVIEW = "review"

IntArray = npt.NDArray[np.intp]
MAX_LABELS = 64  # species are kept as bits of one uint64 per recording


@dataclass(frozen=True)
class RecordingState:
    """One opened recording as it stands (a snapshot of its row)."""

    path: Path
    status: str = STATUS_QUEUED
    reason: str = ""  # why it failed or was not analysed
    info: RecordingInfo | None = None
    progress: float = 0.0  # of the analysis under way, 0..1
    species: tuple[str, ...] = ()  # with detection events at the current thresholds
    from_cache: bool = False  # the analysis came from the review store
    events_reviewed: int = 0
    events_total: int = 0
    marked_reviewed: bool = False  # the whole recording, by the reviewer
    no_bats: bool = False
    duration_s: float | None = None  # real seconds (from its header or its analysis)
    true_rate_hz: float | None = None
    time_expansion: float | None = None
    _analysis_of: Callable[[Path], RecordingAnalysis | None] | None = None

    @property
    def analysis(self) -> RecordingAnalysis | None:
        """Its analysis (None before it is analysed)."""
        if self._analysis_of is None or self.status != STATUS_DONE:
            return None
        return self._analysis_of(self.path)

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


class RecordingList:
    """The opened recordings, in the order opened, found by path; their state as columns.

    Signals (psygnal)
    -----------------
    about_to_reset(), reset()
        Before and after every row is replaced (a folder opened).
    changed(rows: numpy array of row numbers, what: str)
        These rows changed: everything shown (``"all"``), their species or their review.
    """

    about_to_reset = Signal()
    reset = Signal()
    changed = Signal(object, str)

    def __init__(self) -> None:
        self.paths: list[Path] = []
        self._row_of: dict[Path, int] = {}
        self.labels: tuple[str, ...] = ()  # species bit k is labels[k]
        # Set by the session: a recording's analysis, for RecordingState.analysis.
        self.analysis_of: Callable[[Path], RecordingAnalysis | None] | None = None
        self._columns(0, STATUS_QUEUED)

    def _columns(self, n: int, status: str) -> None:
        self.status = np.full(n, STATUS_CODE[status], dtype=np.int8)
        self.progress = np.zeros(n, dtype=np.float32)
        self.from_cache = np.zeros(n, dtype=bool)
        self.duration_s = np.full(n, np.nan)
        self.true_rate_hz = np.full(n, np.nan)
        self.time_expansion = np.full(n, np.nan)
        self.species = np.zeros(n, dtype=np.uint64)  # bit k: labels[k] detected
        self.events_total = np.zeros(n, dtype=np.int64)
        self.events_reviewed = np.zeros(n, dtype=np.int64)
        self.marked_reviewed = np.zeros(n, dtype=bool)
        self.no_bats = np.zeros(n, dtype=bool)
        self._reason: dict[int, str] = {}
        self._info: dict[int, RecordingInfo] = {}  # the recordings whose header was read

    def __len__(self) -> int:
        return len(self.paths)

    def __iter__(self) -> Iterator[RecordingState]:
        return (self.state(i) for i in range(len(self.paths)))

    @property
    def rows(self) -> list[RecordingState]:
        """Every recording as a snapshot, in order (for a look at a few; the table reads the
        columns).
        """
        return list(self)

    def set_paths(self, paths: Sequence[Path], status: str = STATUS_QUEUED) -> None:
        """Replace every row by one per path, all with ``status``."""
        self.about_to_reset.emit()
        self.paths = list(paths)
        self._row_of = {p: i for i, p in enumerate(self.paths)}
        self._columns(len(self.paths), status)
        self.reset.emit()

    def set_labels(self, labels: Sequence[str]) -> None:
        """The labels the species bits stand for (the model set's); forgets the species."""
        if len(labels) > MAX_LABELS:
            raise ValueError(f"at most {MAX_LABELS} labels, got {len(labels)}")
        if tuple(labels) != self.labels:
            self.labels = tuple(labels)
            self.species[:] = 0

    # -- one recording ---------------------------------------------------------------------------

    def index_of(self, path: Path) -> int | None:
        """The row number of ``path`` (None when not opened)."""
        return self._row_of.get(path)

    def row_for(self, path: Path) -> RecordingState | None:
        """The row of ``path`` as it stands (None when not opened)."""
        i = self._row_of.get(path)
        return None if i is None else self.state(i)

    def state(self, i: int) -> RecordingState:
        """Row ``i`` as it stands."""

        def number(column: np.ndarray) -> float | None:
            value = float(column[i])
            return None if np.isnan(value) else value

        return RecordingState(
            path=self.paths[i],
            status=STATUSES[int(self.status[i])],
            reason=self._reason.get(i, ""),
            info=self._info.get(i),
            progress=float(self.progress[i]),
            species=self.species_of(i),
            from_cache=bool(self.from_cache[i]),
            events_reviewed=int(self.events_reviewed[i]),
            events_total=int(self.events_total[i]),
            marked_reviewed=bool(self.marked_reviewed[i]),
            no_bats=bool(self.no_bats[i]),
            duration_s=number(self.duration_s),
            true_rate_hz=number(self.true_rate_hz),
            time_expansion=number(self.time_expansion),
            _analysis_of=self.analysis_of,
        )

    def species_of(self, i: int) -> tuple[str, ...]:
        """The labels detected in row ``i``, in label order."""
        return labels_of_mask(int(self.species[i]), self.labels)

    def reason_of(self, i: int) -> str:
        """Why row ``i`` failed or was not analysed ("" when neither)."""
        return self._reason.get(i, "")

    def info_of(self, i: int) -> RecordingInfo | None:
        """Row ``i``'s header, when it was read (shown, analysed now)."""
        return self._info.get(i)

    def keep_info(self, path: Path, info: RecordingInfo) -> None:
        """Hold ``path``'s header without saying the row changed (what the window read to
        show it).
        """
        i = self._row_of.get(path)
        if i is not None:
            self._set_info(i, info)

    def update(
        self,
        path: Path,
        *,
        status: str | None = None,
        reason: str | None = None,
        info: RecordingInfo | None = None,
        progress: float | None = None,
        from_cache: bool | None = None,
    ) -> None:
        """Change some of ``path``'s state (a path not opened is ignored)."""
        i = self._row_of.get(path)
        if i is None:
            return
        if status is not None:
            self.status[i] = STATUS_CODE[status]
        if reason is not None:
            self._set_reason(i, reason)
        if info is not None:
            self._set_info(i, info)
        if progress is not None:
            self.progress[i] = progress
        if from_cache is not None:
            self.from_cache[i] = from_cache
        self.changed.emit(np.array([i], dtype=np.intp), CHANGED_ALL)

    def _set_reason(self, i: int, reason: str) -> None:
        if reason:
            self._reason[i] = reason
        else:
            self._reason.pop(i, None)

    def _set_info(self, i: int, info: RecordingInfo) -> None:
        self._info[i] = info
        self.duration_s[i] = info.duration_s
        self.true_rate_hz[i] = info.true_rate_hz
        self.time_expansion[i] = info.time_expansion

    # -- many recordings -------------------------------------------------------------------------

    def rows_of(self, paths: Sequence[Path]) -> IntArray:
        """The row numbers of ``paths`` (-1 for a path not opened)."""
        get = self._row_of.get
        return np.fromiter((get(p, -1) for p in paths), np.intp, len(paths))

    def set_status(self, rows: IntArray, status: str, reason: str = "") -> None:
        """Give ``rows`` one status (and reason)."""
        rows = rows[rows >= 0]
        if not len(rows):
            return
        self.status[rows] = STATUS_CODE[status]
        for i in rows.tolist():
            self._set_reason(i, reason)
        self.changed.emit(rows, CHANGED_ALL)

    def set_analysed(
        self,
        rows: IntArray,
        *,
        duration_s: npt.ArrayLike,
        true_rate_hz: npt.ArrayLike,
        time_expansion: npt.ArrayLike,
        from_cache: bool,
    ) -> None:
        """Rows analysed (a block of analyses arrived), with what their analyses say of them."""
        keep = rows >= 0
        rows = rows[keep]
        if not len(rows):
            return
        self.status[rows] = STATUS_CODE[STATUS_DONE]
        self.from_cache[rows] = from_cache
        self.duration_s[rows] = np.asarray(duration_s)[keep]
        self.true_rate_hz[rows] = np.asarray(true_rate_hz)[keep]
        self.time_expansion[rows] = np.asarray(time_expansion)[keep]
        for i in rows.tolist():
            self._reason.pop(i, None)
        self.changed.emit(rows, CHANGED_ALL)

    def rows_with_status(self, *statuses: str) -> IntArray:
        """The row numbers whose status is one of ``statuses``, in order."""
        codes = [STATUS_CODE[s] for s in statuses]
        return np.flatnonzero(np.isin(self.status, codes))

    def count(self, status: str) -> int:
        """How many rows have ``status``."""
        return int((self.status == STATUS_CODE[status]).sum())

    def set_species_masks(self, masks: npt.NDArray[np.uint64]) -> None:
        """Every recording's detected labels, as bits (``[len(self)]``; bit k: labels[k])."""
        changed = np.flatnonzero(masks != self.species)
        if len(changed):
            self.species = masks
            self.changed.emit(changed, CHANGED_SPECIES)

    def set_review_columns(
        self,
        events_reviewed: npt.NDArray[np.int64],
        events_total: npt.NDArray[np.int64],
        marked_reviewed: npt.NDArray[np.bool_],
        no_bats: npt.NDArray[np.bool_],
    ) -> None:
        """Every recording's review progress: (events decided, events) and its marks."""
        changed = np.flatnonzero(
            (events_reviewed != self.events_reviewed)
            | (events_total != self.events_total)
            | (marked_reviewed != self.marked_reviewed)
            | (no_bats != self.no_bats)
        )
        if len(changed):
            self.events_reviewed, self.events_total = events_reviewed, events_total
            self.marked_reviewed, self.no_bats = marked_reviewed, no_bats
            self.changed.emit(changed, CHANGED_REVIEW)

    @property
    def row_of(self) -> Mapping[Path, int]:
        """Each opened path's row number."""
        return self._row_of

    def needs_review(self) -> npt.NDArray[np.bool_]:
        """Per row: still needs review (unreviewed or partly reviewed)."""
        codes = [REVIEW_STATE_CODE[state] for state in NEEDS_REVIEW]
        return np.isin(self.review_state_codes(), codes)

    def review_state_codes(self) -> npt.NDArray[np.int8]:
        """Every row's review state as an index into :data:`REVIEW_STATES` (the rule of
        :func:`~bsgbat_gui.core.review.navigation.review_state`, on columns).
        """
        total, decided = self.events_total, self.events_reviewed
        codes = np.where(
            total > 0, REVIEW_STATE_CODE["unreviewed"], REVIEW_STATE_CODE["no detections"]
        ).astype(np.int8)
        codes[decided > 0] = REVIEW_STATE_CODE["partly reviewed"]
        codes[self.marked_reviewed | ((total > 0) & (decided >= total))] = REVIEW_STATE_CODE[
            "reviewed"
        ]
        codes[self.no_bats] = REVIEW_STATE_CODE["no bats"]
        return codes


def labels_of_mask(mask: int, labels: Sequence[str]) -> tuple[str, ...]:
    """The labels whose bits are set in ``mask``, in label order."""
    found: list[str] = []
    k = 0
    while mask and k < len(labels):
        if mask & 1:
            found.append(labels[k])
        mask >>= 1
        k += 1
    return tuple(found)


def species_masks(
    recording_index: IntArray, label_index: IntArray, n_recordings: int
) -> npt.NDArray[np.uint64]:
    """Per recording, the bits of the labels that have at least one event (``recording_index``
    and ``label_index``: one entry per event).
    """
    masks = np.zeros(n_recordings, dtype=np.uint64)
    if len(recording_index):
        bits = np.left_shift(np.uint64(1), label_index.astype(np.uint64))
        np.bitwise_or.at(masks, recording_index, bits)
    return masks
