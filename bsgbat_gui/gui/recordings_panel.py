"""The list of opened recordings: name, review state, species found, status, real duration, true
rate (TE); filters by status, review state and species."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QSortFilterProxyModel,
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

from bsgbat_gui.core.review.navigation import REVIEW_STATES
from bsgbat_gui.core.session.recordings import (
    CHANGED_REVIEW,
    CHANGED_SPECIES,
    STATUS_ANALYSING,
    STATUS_DONE,
    STATUS_FAILED,
    STATUS_NOT_ANALYSED,
    STATUS_QUEUED,
    RecordingList,
    RecordingState,
)
from bsgbat_gui.core.species import species_for_label
from bsgbat_gui.gui.table_model import ColumnsTableModel, ModelIndex

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
    """The session's recordings (:class:`RecordingList`) as a table; it only shows them."""

    columns = COLUMNS

    def __init__(self, recordings: RecordingList, parent=None) -> None:
        super().__init__(parent)
        self.recordings = recordings
        # Python methods, not Qt's builtins: psygnal checks a slot's signature.
        recordings.about_to_reset.connect(self._about_to_reset)
        recordings.reset.connect(self._reset)
        recordings.changed.connect(self._rows_changed)

    @property
    def rows(self) -> list[RecordingState]:
        return self.recordings.rows

    def row_for(self, path: Path) -> RecordingState | None:
        return self.recordings.row_for(path)

    def _about_to_reset(self) -> None:
        self.beginResetModel()

    def _reset(self) -> None:
        self.endResetModel()

    def _rows_changed(self, rows: list[int], what: str) -> None:
        """Say which cells changed, one signal per run of adjacent rows.

        Only those: after each analysed file of a 1,000-file night a signal over every row
        made the filter proxy re-test every row, twice — O(n) per file on the GUI thread.
        """
        first, last = (0, len(COLUMNS) - 1)
        if what in CHANGED_COLUMN:
            first = last = CHANGED_COLUMN[what]
        start = 0
        for k in range(1, len(rows) + 1):
            if k == len(rows) or rows[k] != rows[k - 1] + 1:  # a run ends at k - 1
                self.dataChanged.emit(self.index(rows[start], first), self.index(rows[k - 1], last))
                start = k

    def data(self, index: ModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        row, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, col)
        if role == Qt.ItemDataRole.UserRole:
            return str(row.path)
        return None

    @staticmethod
    def _display(row: RecordingState, col: int) -> str:
        info = row.info
        if col == COL_NAME:
            return row.path.name
        if col == COL_DURATION:
            return f"{info.duration_s:.2f} s" if info else ""
        if col == COL_RATE:
            if info is None:
                return ""
            rate = f"{info.true_rate_hz / 1000:g} kHz"
            return f"{rate} (TE ×{info.time_expansion:g})" if info.is_time_expanded else rate
        if col == COL_REVIEWED:
            return row.review_text if row.status == STATUS_DONE or row.events_total else ""
        if col == COL_STATUS:
            if row.status == STATUS_DONE and row.from_cache:
                return "done (cached)"
            if row.status == STATUS_ANALYSING:
                return f"analysing {row.progress:.0%}"
            if row.status == STATUS_FAILED:
                return f"failed: {row.reason}"
            if row.status == STATUS_NOT_ANALYSED and row.reason:
                return f"{row.status} ({row.reason})"
            return row.status
        if col == COL_SPECIES:
            return ", ".join(species_for_label(s).code for s in row.species)
        return ""

    @staticmethod
    def _tooltip(row: RecordingState, col: int) -> str:
        if col == COL_STATUS and row.reason:
            return row.reason
        if col == COL_REVIEWED:
            return (
                f"{row.review_state}: {row.events_reviewed} of {row.events_total} detections "
                "decided" + (" · marked reviewed" if row.marked_reviewed else "")
                + (" · marked 'no bats'" if row.no_bats else "")
            )  # fmt: skip
        if col == COL_RATE and row.info is not None and row.info.is_time_expanded:
            return f"true rate; the file is time-expanded ×{row.info.time_expansion:g}"
        if col == COL_SPECIES:
            return "\n".join(row.species)
        if col == COL_NAME:
            lines = [str(row.path)]
            if row.info is not None:
                lines += row.info.warnings
            return "\n".join(lines)
        return ""


class RecordingsFilter(QSortFilterProxyModel):
    """Rows by status, review state and species (code or name, case-insensitive)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.status = ""
        self.review = ""  # one of REVIEW_STATES, or "" for all
        self.species_text = ""

    def set_filter(self, *, status: str, species_text: str, review: str = "") -> None:
        self.status, self.species_text = status, species_text.strip().lower()
        self.review = review
        self.invalidate()

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        model = self.sourceModel()
        assert isinstance(model, RecordingsModel)
        row = model.rows[source_row]
        if self.status and not row.status.startswith(self.status):
            return False
        if self.review and row.review_state != self.review:
            return False
        if self.species_text:
            found = row.species
            names = " ".join([*found, *(species_for_label(s).code for s in found)]).lower()
            if self.species_text not in names:
                return False
        return True


class RecordingsPanel(QWidget):
    """Filters over a table of recordings; emits the selected recording's path."""

    recording_selected = Signal(object)  # Path

    def __init__(self, model: RecordingsModel, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = RecordingsFilter(self)
        self.proxy.setSourceModel(model)
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
        self.table.setModel(self.proxy)
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
        self.proxy.set_filter(
            status="" if status == "all" else status, species_text=self.species_filter.text(),
            review="" if review == "all" else review,
        )  # fmt: skip

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.recording_selected.emit(Path(current.data(Qt.ItemDataRole.UserRole)))

    def select_row(self, proxy_row: int) -> None:
        if 0 <= proxy_row < self.proxy.rowCount():
            self.table.selectRow(proxy_row)
            self.table.setCurrentIndex(self.proxy.index(proxy_row, 0))

    def select_path(self, path: Path) -> None:
        """Select a recording's row (nothing happens when the filters hide it)."""
        source_row = next((i for i, r in enumerate(self.model.rows) if r.path == path), None)
        if source_row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(source_row, 0))
        if index.isValid():
            self.select_row(index.row())

    def current_path(self) -> Path | None:
        index = self.table.currentIndex()
        return Path(index.data(Qt.ItemDataRole.UserRole)) if index.isValid() else None

    def shown_paths(self) -> list[Path]:
        """The recordings in the order the table shows them (sorted and filtered)."""
        proxy = self.proxy
        return [
            self.model.rows[proxy.mapToSource(proxy.index(r, 0)).row()].path
            for r in range(proxy.rowCount())
        ]
