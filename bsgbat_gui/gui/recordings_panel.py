"""The list of opened recordings: name, review state, species found, status, real duration, true
rate (TE); filters by status, review state and species."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import (
    QModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from bsgbat_gui.core.review.decisions import RecordingReview
from bsgbat_gui.core.review.navigation import (
    REVIEW_STATES,
    RecordingOrder,
    review_state,
    review_state_text,
)
from bsgbat_gui.core.session.recordings import (
    CHANGED_ALL,
    CHANGED_REVIEW,
    CHANGED_SPECIES,
    REVIEW_STATE_CODE,
    STATUS_ANALYSING,
    STATUS_CODE,
    STATUS_DONE,
    STATUS_FAILED,
    STATUS_NOT_ANALYSED,
    STATUS_QUEUED,
    STATUSES,
    RecordingList,
    RecordingState,
    labels_of_mask,
)
from bsgbat_gui.core.species import species_for_label
from bsgbat_gui.gui.table_model import ColumnsTableModel, ModelIndex

if TYPE_CHECKING:
    from pathlib import Path

# What the reviewer looks at first (the name, how far its review is, what was found) comes
# first: at the default width the later columns may need scrolling, these never do.
COLUMNS = ("Recording", "Review", "Species", "Status", "Duration", "Rate")
COL_NAME, COL_REVIEWED, COL_SPECIES, COL_STATUS, COL_DURATION, COL_RATE = range(len(COLUMNS))
TYPICAL_CONTENTS = {
    COL_REVIEWED: "✓ 12 / 34",
    COL_STATUS: "done (cached)",
    COL_DURATION: "3600.0 s",
    COL_RATE: "384 kHz (TE ×10)",
}
REVIEW_FILTERS = ("all", *REVIEW_STATES)
CHANGED_COLUMN = {CHANGED_SPECIES: COL_SPECIES, CHANGED_REVIEW: COL_REVIEWED}


class RecordingsModel(ColumnsTableModel):
    """The session's recordings (:class:`RecordingList`) as a table, filtered and sorted.

    Filtering and sorting are numpy operations on the list's columns, inside the model: a
    QSortFilterProxyModel calls ``data()`` from Python for every row it tests and every
    comparison it sorts, which for a season of 100,000 recordings took 12 to 19 s per filter
    or sort. Here they take milliseconds; the view asks ``data()`` only for the rows in sight.
    :attr:`order` maps table rows to the list's rows.
    """

    columns = COLUMNS

    def __init__(self, recordings: RecordingList, parent=None) -> None:
        super().__init__(parent)
        self.recordings = recordings
        self.order = np.empty(0, dtype=np.intp)  # table row -> recording row
        self._position = np.empty(0, dtype=np.intp)  # recording row -> table row, -1: hidden
        self.status = ""  # a status, or "" for all
        self.review = ""  # one of REVIEW_STATES, or "" for all
        self.species_text = ""
        self.sort_column = COL_NAME
        self.sort_order = Qt.SortOrder.AscendingOrder
        self._name_rank = np.empty(0, dtype=np.intp)
        self._mask_text: dict[int, str] = {}  # species bits -> the codes shown
        self._mask_labels: tuple[str, ...] = ()
        # Python methods, not Qt's builtins: psygnal checks a slot's signature.
        recordings.about_to_reset.connect(self._about_to_reset)
        recordings.reset.connect(self._reset)
        recordings.changed.connect(self._rows_changed)

    @property
    def rows(self) -> list[RecordingState]:
        """Every recording as a snapshot, in the list's order (tests and small looks)."""
        return self.recordings.rows

    def row_for(self, path: Path) -> RecordingState | None:
        return self.recordings.row_for(path)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.order)

    # -- following the list ------------------------------------------------------------------

    def _about_to_reset(self) -> None:
        self.beginResetModel()

    def _reset(self) -> None:
        names = np.array([p.name for p in self.recordings.paths], dtype=str)
        rank = np.empty(len(names), dtype=np.intp)
        rank[np.argsort(names, kind="stable")] = np.arange(len(names))
        self._name_rank = rank
        self.order, self._position = self._ordered()
        self.endResetModel()

    def _rows_changed(self, rows: np.ndarray, what: str) -> None:
        """Redraw the changed cells; filter or sort again only when what changed decides which
        rows are shown or their order (one signal over the changed span, not one per row)."""
        if self._filters_use(what):
            self._refilter()
            return
        if self._sort_uses(what):
            self._resort()
            return
        positions = self._position[np.asarray(rows, dtype=np.intp)]
        positions = positions[positions >= 0]
        if not len(positions):
            return
        first, last = (0, len(COLUMNS) - 1)
        if what in CHANGED_COLUMN:
            first = last = CHANGED_COLUMN[what]
        self.dataChanged.emit(
            self.index(int(positions.min()), first), self.index(int(positions.max()), last)
        )

    def _filters_use(self, what: str) -> bool:
        if what == CHANGED_ALL:
            return bool(self.status or self.review or self.species_text)
        if what == CHANGED_SPECIES:
            return bool(self.species_text)
        return what == CHANGED_REVIEW and bool(self.review)

    def _sort_uses(self, what: str) -> bool:
        if what == CHANGED_ALL:
            return self.sort_column != COL_NAME
        return CHANGED_COLUMN.get(what) == self.sort_column

    # -- filtering and sorting ---------------------------------------------------------------

    def set_filter(self, *, status: str, species_text: str, review: str = "") -> None:
        """Show the rows with this status, review state and species text ("": any)."""
        self.status, self.species_text = status, species_text.strip().lower()
        self.review = review
        self._refilter()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if (column, order) == (self.sort_column, self.sort_order):
            return  # the header asks again for the order the rows already have
        self.sort_column, self.sort_order = column, order
        self._resort()

    def _refilter(self) -> None:
        # Rows come and go: a reset (the panel keeps the shown recording selected).
        self.beginResetModel()
        self.order, self._position = self._ordered()
        self.endResetModel()

    def _resort(self) -> None:
        # The same rows in another order: a layout change that moves the selection with them.
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        old = self.order
        sources = [int(old[i.row()]) if 0 <= i.row() < len(old) else -1 for i in persistent]
        self.order, self._position = self._ordered()
        moved = [
            self.index(int(self._position[src]), i.column())
            if src >= 0 and self._position[src] >= 0
            else QModelIndex()
            for src, i in zip(sources, persistent, strict=True)
        ]
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def _ordered(self) -> tuple[np.ndarray, np.ndarray]:
        r = self.recordings
        n = len(r)
        keep = np.ones(n, dtype=bool)
        if self.status:
            keep &= r.status == STATUS_CODE[self.status]
        if self.review:
            keep &= r.review_state_codes() == REVIEW_STATE_CODE[self.review]
        if self.species_text:
            keep &= (r.species & self._matching_bits()) != 0
        rows = np.flatnonzero(keep)
        key = self._sort_key(rows)
        if self.sort_order == Qt.SortOrder.DescendingOrder:
            key = -key
        order = rows[np.lexsort((self._name_rank[rows], key))] if len(rows) else rows
        position = np.full(n, -1, dtype=np.intp)
        position[order] = np.arange(len(order))
        return order, position

    def _sort_key(self, rows: np.ndarray) -> np.ndarray:
        r, column = self.recordings, self.sort_column
        if column == COL_NAME:
            return self._name_rank[rows].astype(float)
        if column == COL_REVIEWED:
            state = r.review_state_codes()[rows].astype(float)
            return state * 1e9 + r.events_total[rows]
        if column == COL_SPECIES:
            masks, inverse = np.unique(r.species[rows], return_inverse=True)
            return self._text_rank(masks)[inverse.reshape(-1)]
        if column == COL_STATUS:
            return r.status[rows].astype(float) * 2 + r.from_cache[rows]
        column_of = {COL_DURATION: r.duration_s, COL_RATE: r.true_rate_hz}
        values = column_of.get(column)
        if values is None:
            return np.zeros(len(rows))
        return np.nan_to_num(values[rows], nan=np.inf)

    def _codes(self, mask: int) -> str:
        """The species column's text for these species bits (kept per distinct set)."""
        labels = self.recordings.labels
        if labels != self._mask_labels:
            self._mask_text, self._mask_labels = {}, labels
        text = self._mask_text.get(mask)
        if text is None:
            text = ", ".join(species_for_label(s).code for s in labels_of_mask(mask, labels))
            self._mask_text[mask] = text
        return text

    def _matching_bits(self) -> np.uint64:
        """The species bits of the labels whose name or code contains the filter's text."""
        bits = 0
        for k, label in enumerate(self.recordings.labels):
            searchable = f"{label} {species_for_label(label).code}".lower()
            if self.species_text in searchable:
                bits |= 1 << k
        return np.uint64(bits)

    def _text_rank(self, masks: np.ndarray) -> np.ndarray:
        """The rank of each distinct species set's text (``Eptser, Nycnoc``) in text order,
        without building the texts: every code has the same length, so the texts compare as
        their sequences of codes (label order), a shorter sequence first when one is the other's
        start — a lexsort over a few columns of code ranks."""
        labels = self.recordings.labels
        codes = [species_for_label(label).code for label in labels]
        if len({len(c) for c in codes}) > 1:  # not the case for BSG-BAT's codes
            texts = np.array([self._codes(int(m)) for m in masks], dtype=str)
            rank = np.empty(len(masks), dtype=float)
            rank[np.argsort(texts, kind="stable")] = np.arange(len(masks))
            return rank
        alphabetical = np.empty(len(codes), dtype=np.int64)
        alphabetical[np.argsort(np.array(codes, dtype=str), kind="stable")] = np.arange(len(codes))
        present = (masks[:, None] >> np.arange(len(labels), dtype=np.uint64)) & np.uint64(1)
        rows, cols = np.nonzero(present.astype(bool))  # each set's labels, in label order
        counts = np.bincount(rows, minlength=len(masks))
        width = max(1, int(counts.max(initial=0)))
        sequence = np.full((len(masks), width), -1, dtype=np.int64)  # -1: ended (sorts first)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        sequence[rows, np.arange(len(rows)) - starts[rows]] = alphabetical[cols]
        order = np.lexsort(sequence.T[::-1])
        rank = np.empty(len(masks), dtype=float)
        rank[order] = np.arange(len(masks))
        return rank

    # -- rows --------------------------------------------------------------------------------

    def position_of(self, path: Path) -> int | None:
        """The table row of ``path`` (None when the filters hide it or it is not opened)."""
        i = self.recordings.index_of(path)
        if i is None or i >= len(self._position) or self._position[i] < 0:
            return None
        return int(self._position[i])

    def path_at(self, table_row: int) -> Path | None:
        if not 0 <= table_row < len(self.order):
            return None
        return self.recordings.paths[int(self.order[table_row])]

    def data(self, index: ModelIndex, role: int = 0) -> Any:
        if not index.isValid() or index.row() >= len(self.order):
            return None
        i, col = int(self.order[index.row()]), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(i, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(i, col)
        if role == Qt.ItemDataRole.UserRole:
            return str(self.recordings.paths[i])
        return None

    def _display(self, i: int, col: int) -> str:
        r = self.recordings
        if col == COL_NAME:
            return r.paths[i].name
        if col == COL_DURATION:
            duration = float(r.duration_s[i])
            return "" if np.isnan(duration) else f"{duration:.2f} s"
        if col == COL_RATE:
            rate, te = float(r.true_rate_hz[i]), float(r.time_expansion[i])
            if np.isnan(rate):
                return ""
            text = f"{rate / 1000:g} kHz"
            return f"{text} (TE ×{te:g})" if te != 1 else text
        status = STATUSES[int(r.status[i])]
        if col == COL_REVIEWED:
            total = int(r.events_total[i])
            if status != STATUS_DONE and not total:
                return ""
            return review_state_text(total, int(r.events_reviewed[i]), self._review(i))
        if col == COL_STATUS:
            reason = r.reason_of(i)
            if status == STATUS_DONE and r.from_cache[i]:
                return "done (cached)"
            if status == STATUS_ANALYSING:
                return f"analysing {float(r.progress[i]):.0%}"
            if status == STATUS_FAILED:
                return f"failed: {reason}"
            if status == STATUS_NOT_ANALYSED and reason:
                return f"{status} ({reason})"
            return status
        if col == COL_SPECIES:
            return self._codes(int(r.species[i]))
        return ""

    def _review(self, i: int) -> RecordingReview:
        r = self.recordings
        return RecordingReview(reviewed=bool(r.marked_reviewed[i]), no_bats=bool(r.no_bats[i]))

    def _tooltip(self, i: int, col: int) -> str:
        r = self.recordings
        if col == COL_STATUS:
            return r.reason_of(i)
        if col == COL_REVIEWED:
            total, done, review = int(r.events_total[i]), int(r.events_reviewed[i]), self._review(i)
            state = review_state(total, done, review)
            return (
                f"{state}: {done} of {total} detections decided"
                + (" · marked reviewed" if review.reviewed else "")
                + (" · marked 'no bats'" if review.no_bats else "")
            )
        if col == COL_RATE:
            te = float(r.time_expansion[i])
            if not np.isnan(te) and te != 1:
                return f"true rate; the file is time-expanded ×{te:g}"
            return ""
        if col == COL_SPECIES:
            return "\n".join(r.species_of(i))
        if col == COL_NAME:
            lines = [str(r.paths[i])]
            info = r.info_of(i)
            if info is not None:
                lines += info.warnings
            return "\n".join(lines)
        return ""


class RecordingsPanel(QWidget):
    """Filters over a table of recordings; emits the selected recording's path."""

    recording_selected = Signal(object)  # Path

    def __init__(self, model: RecordingsModel, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self._selected: Path | None = None  # the recording last said selected
        self.status_filter = QComboBox(self)
        self.status_filter.addItems(
            ["all", STATUS_QUEUED, STATUS_ANALYSING, STATUS_DONE, STATUS_FAILED]
        )
        self.status_filter.setToolTip("Show recordings with this analysis status")
        self.review_filter = QComboBox(self)
        self.review_filter.addItems(list(REVIEW_FILTERS))
        self.review_filter.setToolTip(
            "Show recordings by review state: unreviewed, partly reviewed, reviewed (marked, or "
            "every detection decided), no bats, no detections"
        )
        self.species_filter = QLineEdit(self)
        self.species_filter.setPlaceholderText("species filter (e.g. Pippip, noctula)")
        self.species_filter.setClearButtonEnabled(True)
        self.table = QTableView(self)
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(COL_NAME, 150)
        # Widths from typical contents, not ResizeToContents: that mode measures every row on
        # every row change, which with thousands of recordings stalls the window per result.
        metrics = self.table.fontMetrics()
        for col, typical in TYPICAL_CONTENTS.items():
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, metrics.horizontalAdvance(typical) + 16)
        header.setSectionResizeMode(COL_SPECIES, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(COL_SPECIES, 100)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)

        filters = QHBoxLayout()
        filters.addWidget(self.status_filter)
        filters.addWidget(self.review_filter)
        filters.addWidget(self.species_filter, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)

        self.status_filter.currentTextChanged.connect(self._apply_filter)
        self.review_filter.currentTextChanged.connect(self._apply_filter)
        self.species_filter.textChanged.connect(self._apply_filter)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)

    def _apply_filter(self) -> None:
        status = self.status_filter.currentText()
        review = self.review_filter.currentText()
        shown = self._selected
        self.model.set_filter(
            status="" if status == "all" else status, species_text=self.species_filter.text(),
            review="" if review == "all" else review,
        )  # fmt: skip
        if shown is not None:  # still selected when the filters keep it (a reset clears it)
            self._select_quietly(shown)

    def _select_quietly(self, path: Path) -> None:
        row = self.model.position_of(path)
        if row is not None:
            self.table.selectRow(row)
            self.table.setCurrentIndex(self.model.index(row, 0))

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        path = self.model.path_at(current.row())
        if path is not None and path != self._selected:
            self._selected = path
            self.recording_selected.emit(path)

    def select_row(self, table_row: int) -> None:
        if 0 <= table_row < self.model.rowCount():
            self.table.selectRow(table_row)
            self.table.setCurrentIndex(self.model.index(table_row, 0))

    def select_path(self, path: Path) -> None:
        """Select a recording's row (nothing happens when the filters hide it)."""
        row = self.model.position_of(path)
        if row is not None:
            self.select_row(row)

    def current_path(self) -> Path | None:
        index = self.table.currentIndex()
        return self.model.path_at(index.row()) if index.isValid() else None

    def shown_rows(self) -> np.ndarray:
        """The recordings' row numbers (in the session's list) in the order the table shows
        them (sorted and filtered)."""
        return self.model.order

    def recording_order(self) -> RecordingOrder:
        """The recordings as the table shows them, for the review keys' navigation."""
        recordings = self.model.recordings
        return RecordingOrder(recordings.paths, self.model.order, recordings.row_of)

    def shown_paths(self) -> list[Path]:
        """The recordings in the order the table shows them (sorted and filtered)."""
        paths = self.model.recordings.paths
        return [paths[i] for i in self.model.order.tolist()]
