"""The detections table: every event at the current thresholds, sortable and filterable;
selecting a row shows the event in the spectrogram and tracks.

Sorting and filtering are done with numpy on the event columns inside the model (not with a
QSortFilterProxyModel, which would call ``data()`` from Python for every comparison): a threshold
drag over a 60-minute recording re-sorts thousands of rows on each step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from bsgbat_gui.core.checklist import european_checklist
from bsgbat_gui.core.model_card import BACKGROUND_LABEL
from bsgbat_gui.core.review.decisions import STATUS_RELABELLED, Decision
from bsgbat_gui.core.session.selection import SelectedEvent
from bsgbat_gui.core.species import species_for_label
from bsgbat_gui.gui.species_style import species_colour
from bsgbat_gui.gui.table_model import ColumnsTableModel, ModelIndex

if TYPE_CHECKING:
    from pathlib import Path

    from bsgbat_gui.core.analysis.detections import SurveyDetections

COLUMNS = ("Recording", "Species", "Start (s)", "End (s)", "Max p", "Mean p", "n", "Status")
COL_STATUS = COLUMNS.index("Status")
ALL_SPECIES = "all species"


def status_text(decision: Decision | None) -> str:
    """``unreviewed``, ``confirmed``, ``rejected``, or ``→ Myonat`` (a checklist label's code)
    / ``→ “text” (free)`` for a relabel."""
    if decision is None:
        return "unreviewed"
    if decision.status == STATUS_RELABELLED:
        taxon = european_checklist().find(decision.final_species)
        if taxon is None:
            return f"→ \u201c{decision.final_species}\u201d (free text)"
        return f"→ {taxon.code}"
    return decision.status


class DetectionsModel(ColumnsTableModel):
    """Rows = the events of a :class:`SurveyDetections`, filtered and sorted with numpy."""

    columns = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.detections: SurveyDetections | None = None
        self.labels: tuple[str, ...] = ()
        self.rows = np.empty(0, dtype=np.intp)  # table row -> event index
        self.species_filter = ""  # a label, or "" for all
        self.recording_filter: Path | None = None
        self.visible_labels: set[str] | None = None  # None: all
        self.unreviewed_only = False
        self.min_prob = 0.0  # rows whose max probability is at least this
        self.sample_only = False  # only the verification sample's detections
        self.in_sample: np.ndarray | None = None  # per event: in the sample (None: no sample)
        self.decisions: list[Decision] = []
        self.attached = np.empty(0, dtype=np.intp)  # event -> index into decisions, or -1
        self.sort_column = 2
        self.sort_order = Qt.SortOrder.AscendingOrder
        self._names: list[str] = []
        self._name_rank = np.empty(0, dtype=np.intp)
        self._names_of: object = None  # the paths tuple _names was made for
        # Model species the survey species list does not name: marked, never hidden.
        self.outside_survey: frozenset[str] = frozenset()

    def set_outside_survey(self, labels: set[str] | frozenset[str]) -> None:
        self.outside_survey = frozenset(labels)
        if len(self.rows):
            self.dataChanged.emit(self.index(0, 1), self.index(len(self.rows) - 1, 1))

    # -- content ----------------------------------------------------------------------------

    def set_detections(
        self,
        detections: SurveyDetections,
        labels: tuple[str, ...],
        decisions: list[Decision],
        attached: np.ndarray,
        in_sample: np.ndarray | None = None,
    ) -> None:
        """Show ``detections``; ``attached[i]``: the index into ``decisions`` of event ``i``'s
        decision, or -1 (the session attaches them); ``in_sample[i]``: event ``i`` is in the
        verification sample (None: there is none)."""
        self.beginResetModel()
        self.detections, self.labels = detections, labels
        self.decisions, self.attached = decisions, attached
        self.in_sample = in_sample
        if detections.paths is not self._names_of:  # a threshold change keeps the paths
            self._names = [p.name for p in detections.paths]
            names = np.array(self._names, dtype=str)
            self._name_rank = np.empty(len(names), dtype=np.intp)
            self._name_rank[np.argsort(names, kind="stable")] = np.arange(len(names))
            self._names_of = detections.paths
        self.rows = self._ordered_rows()
        self.endResetModel()

    def set_decisions(self, decisions: list[Decision], attached: np.ndarray) -> None:
        """The store's decisions changed; each event shows the one attached to it."""
        self.decisions, self.attached = decisions, attached
        if self.unreviewed_only or self.sort_column == COL_STATUS:
            self.layoutAboutToBeChanged.emit()
            self.rows = self._ordered_rows()
            self.layoutChanged.emit()
        elif len(self.rows):
            self.dataChanged.emit(
                self.index(0, COL_STATUS), self.index(len(self.rows) - 1, COL_STATUS)
            )

    def decision_at(self, row: int) -> Decision | None:
        if not 0 <= row < len(self.rows):
            return None
        k = int(self.attached[self.rows[row]])
        return self.decisions[k] if k >= 0 else None

    def is_reviewed(self, row: int) -> bool:
        return self.decision_at(row) is not None

    def set_filters(
        self,
        *,
        species: str | None = None,
        recording: Path | bool | None = False,
        visible_labels: set[str] | bool | None = False,
        unreviewed_only: bool | None = None,
        min_prob: float | None = None,
        sample_only: bool | None = None,
    ) -> None:
        """Change some filters (arguments left at their defaults are unchanged)."""
        if unreviewed_only is not None:
            self.unreviewed_only = unreviewed_only
        if sample_only is not None:
            self.sample_only = sample_only
        if min_prob is not None:
            self.min_prob = min_prob
        if species is not None:
            self.species_filter = species
        if recording is not False:
            self.recording_filter = recording  # type: ignore[assignment]
        if visible_labels is not False:
            self.visible_labels = visible_labels  # type: ignore[assignment]
        self.beginResetModel()
        self.rows = self._ordered_rows()
        self.endResetModel()

    def _ordered_rows(self) -> np.ndarray:
        d = self.detections
        if d is None or len(d.events) == 0:
            return np.empty(0, dtype=np.intp)
        ev = d.events
        keep = np.ones(len(ev), dtype=bool)
        if self.visible_labels is not None:
            shown = [i for i, x in enumerate(self.labels) if x in self.visible_labels]
            keep &= np.isin(ev.label_index, shown)
        if self.species_filter and self.species_filter in self.labels:
            keep &= ev.label_index == self.labels.index(self.species_filter)
        if self.recording_filter is not None:
            index = d.index_of(self.recording_filter)
            if index is not None:
                keep &= d.recording_index == index
            else:
                keep[:] = False
        if self.unreviewed_only and len(self.attached) == len(ev):
            keep &= self.attached < 0
        if self.min_prob > 0:
            keep &= ev.max_prob >= self.min_prob
        if self.sample_only:
            if self.in_sample is not None and len(self.in_sample) == len(ev):
                keep &= self.in_sample
            else:
                keep[:] = False
        rows = np.flatnonzero(keep)
        if not len(rows):
            return rows
        primary, bits = self._sort_key(rows)
        if self.sort_order == Qt.SortOrder.DescendingOrder:
            primary = np.uint64((1 << bits) - 1) - primary
        # Ties broken by recording then start time (then species), so the order is stable while
        # thresholds move: the event's first window in the survey's stack of windows (ordered
        # by recording, then time), then its label — one integer per event, unique.
        tie = ev.first_segment[rows].astype(np.uint64) * np.uint64(max(1, len(self.labels)))
        tie += ev.label_index[rows].astype(np.uint64)
        tie_bits = int(tie.max()).bit_length()
        if bits + tie_bits <= 63:
            # One sort of one 64-bit key (~30 ms for a season's ~1 M events); three keys in
            # np.lexsort took ~250 ms, too slow for a threshold drag.
            key = (primary << np.uint64(tie_bits)) | tie
            return rows[np.argsort(key)]
        return rows[np.lexsort((tie, primary))]

    def _sort_key(self, rows: np.ndarray) -> tuple[np.ndarray, int]:
        """The sort column's value of each row as an order-preserving unsigned integer, and its
        width in bits. Times and probabilities are compared as float32 (their bit patterns,
        monotonic for non-negative numbers): equal below float32's resolution (0.4 ms at an
        hour), they are ordered as ties."""
        d = self.detections
        assert d is not None
        ev = d.events
        column = self.sort_column
        if column == 0:
            ranks = self._name_rank[d.recording_index[rows]]
            return ranks.astype(np.uint64), max(1, len(self._name_rank)).bit_length()
        if column == 1:
            ranks = np.argsort(np.argsort(self.labels))
            return ranks[ev.label_index[rows]].astype(np.uint64), max(
                1, len(self.labels)
            ).bit_length()
        columns = {2: ev.start_s, 3: ev.end_s, 4: ev.max_prob, 5: ev.mean_prob}
        if column in columns:
            values = np.maximum(columns[column][rows], 0.0).astype(np.float32)
            return values.view(np.uint32).astype(np.uint64), 32
        if column == COL_STATUS:  # unreviewed first, then by status
            order = {None: 0, "confirmed": 1, STATUS_RELABELLED: 2, "rejected": 3}
            attached = self.attached[rows]
            statuses = np.zeros(len(rows), dtype=np.uint64)
            decided = np.flatnonzero(attached >= 0)
            statuses[decided] = [order[self.decisions[int(k)].status] for k in attached[decided]]
            return statuses, 2
        n = ev.n_segments[rows]
        return n.astype(np.uint64), max(1, int(n.max(initial=1))).bit_length()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if (column, order) == (self.sort_column, self.sort_order):
            return  # the header asks again for the order the rows already have
        self.sort_column, self.sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        self.rows = self._ordered_rows()
        self.layoutChanged.emit()

    # -- rows -----------------------------------------------------------------------------

    def event_at(self, row: int) -> SelectedEvent | None:
        d = self.detections
        if d is None or not 0 <= row < len(self.rows):
            return None
        i = int(self.rows[row])
        ev = d.events
        return SelectedEvent(
            d.paths[int(d.recording_index[i])],
            self.labels[int(ev.label_index[i])],
            float(ev.start_s[i]),
            float(ev.end_s[i]),
        )

    def row_of(self, wanted: SelectedEvent) -> int | None:
        """The row of the same species in the same recording whose span overlaps ``wanted``
        (the same detection after a threshold change), preferring the largest overlap."""
        d = self.detections
        index = d.index_of(wanted.path) if d is not None else None
        if d is None or index is None or wanted.label not in self.labels:
            return None
        ev = d.events
        rows = self.rows
        overlap = np.minimum(ev.end_s[rows], wanted.end_s) - np.maximum(
            ev.start_s[rows], wanted.start_s
        )
        same = (
            (d.recording_index[rows] == index)
            & (ev.label_index[rows] == self.labels.index(wanted.label))
            & (overlap > 0)
        )
        if not same.any():
            return None
        return int(np.argmax(np.where(same, overlap, -np.inf)))

    def data(self, index: ModelIndex, role: int = 0) -> Any:
        d = self.detections
        if d is None or not index.isValid():
            return None
        i = int(self.rows[index.row()])
        ev = d.events
        col = index.column()
        label_index = int(ev.label_index[i])
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return self._names[int(d.recording_index[i])]
            if col == 1:
                code = species_for_label(self.labels[label_index]).code
                return f"{code} ⚠" if self.labels[label_index] in self.outside_survey else code
            if col in (2, 3):
                return f"{(ev.start_s if col == 2 else ev.end_s)[i]:.3f}"
            if col in (4, 5):
                return f"{(ev.max_prob if col == 4 else ev.mean_prob)[i]:.3f}"
            if col == COL_STATUS:
                return status_text(self.decision_at(index.row()))
            return str(int(ev.last_segment[i] - ev.first_segment[i] + 1))
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 0:
                return str(d.paths[int(d.recording_index[i])])
            if col == 1:
                species = species_for_label(self.labels[label_index])
                text = f"{species.scientific_name} ({species.common_name})"
                if species.scientific_name in self.outside_survey:
                    text += "\n⚠ not in the survey species list (Review → Survey species list…)"
                return text
            if col == COL_STATUS and (decision := self.decision_at(index.row())) is not None:
                lines = [
                    f"{decision.status} by {decision.reviewer or '?'} at {decision.decided_at}"
                ]
                if decision.final_species:
                    lines.append(f"species: {decision.final_species}")
                if decision.note:
                    lines.append(f"note: {decision.note}")
                return "\n".join(lines)
        if role == Qt.ItemDataRole.DecorationRole and col == 1:
            return species_colour(label_index)
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class DetectionsPanel(QWidget):
    """Filters over the detections table. Emits :attr:`event_selected` when the user selects a
    row (not when a threshold change re-selects the same detection)."""

    event_selected = Signal(object)  # SelectedEvent

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model = DetectionsModel(self)
        self._labels: tuple[str, ...] = ()
        self.species_box = QComboBox(self)
        self.species_box.addItem(ALL_SPECIES, "")
        self.species_box.setToolTip("Show the detections of one species")
        self.current_only_box = QCheckBox("This recording only", self)
        self.unreviewed_box = QCheckBox("Unreviewed only", self)
        self.sample_box = QCheckBox("In the sample", self)
        self.sample_box.setToolTip(
            "Show only the detections of the verification sample (Review → Review a sample…)"
        )
        self.sample_box.hide()  # until a sample is drawn
        self.min_prob_box = QDoubleSpinBox(self)
        self.min_prob_box.setRange(0.0, 1.0)
        self.min_prob_box.setSingleStep(0.05)
        self.min_prob_box.setDecimals(2)
        self.min_prob_box.setPrefix("max p ≥ ")
        self.min_prob_box.setToolTip("Show detections whose highest probability is at least this")
        self.count_label = QLabel("", self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, {1: 90, COL_STATUS: 96}.get(col, 64))
        filters = QHBoxLayout()
        filters.addWidget(self.species_box)
        filters.addWidget(self.current_only_box)
        filters.addWidget(self.unreviewed_box)
        filters.addWidget(self.sample_box)
        filters.addWidget(self.min_prob_box)
        filters.addStretch(1)
        filters.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        self.current_path: Path | None = None
        self.selected: SelectedEvent | None = None
        self._reselecting = False
        self.species_box.currentIndexChanged.connect(self._species_filter_changed)
        self.current_only_box.toggled.connect(self._recording_filter_changed)
        self.unreviewed_box.toggled.connect(self._review_filters_changed)
        self.sample_box.toggled.connect(self._review_filters_changed)
        self.min_prob_box.valueChanged.connect(self._review_filters_changed)
        self.table.selectionModel().currentRowChanged.connect(self._current_row_changed)

    def set_labels(self, labels: tuple[str, ...]) -> None:
        if labels == self._labels:
            return  # every analysis of a folder brings the same labels
        self._labels = labels
        current = self.species_box.currentData()
        self.species_box.blockSignals(True)
        self.species_box.clear()
        self.species_box.addItem(ALL_SPECIES, "")
        for i, label in enumerate(labels):
            if label != BACKGROUND_LABEL:
                self.species_box.addItem(species_colour_icon(i), label, label)
        self.species_box.setCurrentIndex(max(0, self.species_box.findData(current)))
        self.species_box.blockSignals(False)

    def set_detections(
        self,
        detections: SurveyDetections,
        labels: tuple[str, ...],
        decisions: list[Decision],
        attached: np.ndarray,
        in_sample: np.ndarray | None = None,
    ) -> None:
        if in_sample is None and self.sample_box.isChecked():  # the sample is gone
            self.sample_box.blockSignals(True)
            self.sample_box.setChecked(False)
            self.sample_box.blockSignals(False)
            self.model.sample_only = False
        self.model.set_detections(detections, labels, decisions, attached, in_sample)
        self.sample_box.setVisible(in_sample is not None)
        self._after_reset()

    def show_sample(self) -> None:
        """Show the sample's unreviewed detections, the first one selected (the sample was
        drawn: review it from the keyboard)."""
        for box in (self.sample_box, self.unreviewed_box):
            box.blockSignals(True)
            box.setChecked(True)
            box.blockSignals(False)
        self.sample_box.show()
        self._review_filters_changed()
        if self.model.rowCount():
            self.select_row(0)

    def set_visible_labels(self, labels: set[str]) -> None:
        self.model.set_filters(visible_labels=labels)
        self._after_reset()

    def set_current_recording(self, path: Path | None) -> None:
        self.current_path = path
        if self.current_only_box.isChecked():
            self.model.set_filters(recording=path)
            self._after_reset()

    def _species_filter_changed(self) -> None:
        self.model.set_filters(species=self.species_box.currentData() or "")
        self._after_reset()

    def _recording_filter_changed(self, only_current: bool) -> None:
        self.model.set_filters(recording=self.current_path if only_current else None)
        self._after_reset()

    def _review_filters_changed(self) -> None:
        self.model.set_filters(
            unreviewed_only=self.unreviewed_box.isChecked(),
            min_prob=self.min_prob_box.value(),
            sample_only=self.sample_box.isChecked(),
        )
        self._after_reset()

    def set_decisions(self, decisions: list[Decision], attached: np.ndarray) -> None:
        self.model.set_decisions(decisions, attached)
        if self.model.unreviewed_only:
            self._after_reset()
        else:
            self._update_count()

    def current_row(self) -> int:
        index = self.table.currentIndex()
        return index.row() if index.isValid() else -1

    def step(self, step: int, *, unreviewed: bool = False) -> bool:
        """Select the next (step 1) or previous (-1) row, optionally the next unreviewed one
        (wrapping around); False when there is none."""
        n = self.model.rowCount()
        if n == 0:
            return False
        start = self.current_row()
        if start < 0:
            start = -1 if step > 0 else n
        for k in range(1, n + 1):
            row = start + step * k
            if not unreviewed and not 0 <= row < n:
                return False
            row %= n
            if not unreviewed or not self.model.is_reviewed(row):
                self.select_row(row)
                return True
        return False

    def _update_count(self) -> None:
        total = len(self.model.detections.events) if self.model.detections else 0
        shown = self.model.rowCount()
        reviewed = int((self.model.attached >= 0).sum())
        self.count_label.setText(
            f"{shown} detection{'s' if shown != 1 else ''}"
            + (f" (of {total})" if shown != total else "")
            + f" · {reviewed} of {total} reviewed"
        )

    def _after_reset(self) -> None:
        """Keep the selected detection selected (by species, recording and overlapping span)
        across a reset, without moving the views; update the count."""
        self._update_count()
        if self.selected is None:
            return
        row = self.model.row_of(self.selected)
        if row is None:
            return
        self._reselecting = True
        self.table.selectionModel().setCurrentIndex(
            self.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self._reselecting = False

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        event = self.model.event_at(current.row()) if current.isValid() else None
        if event is None:
            return
        self.selected = event
        if not self._reselecting:
            self.event_selected.emit(event)

    def select_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.table.selectRow(row)
            self.table.setCurrentIndex(self.model.index(row, 0))
            self.table.scrollTo(self.model.index(row, 0))  # the row acted on is in sight

    def row_of_event(self, event: int) -> int | None:
        """The table row showing ``event`` (an index into the detections' events), if shown."""
        rows = np.flatnonzero(self.model.rows == event)
        return int(rows[0]) if len(rows) else None

    def select_event(self, event: int) -> bool:
        row = self.row_of_event(event)
        if row is None:
            return False
        self.select_row(row)
        return True

    def selected_event_index(self) -> int | None:
        """The event index of the selected row (None when no row is selected)."""
        row = self.current_row()
        return int(self.model.rows[row]) if 0 <= row < len(self.model.rows) else None

    def clear_selection(self) -> None:
        """No detection selected (another recording is shown: its detection is not a target)."""
        self.selected = None
        self._reselecting = True
        self.table.selectionModel().clear()
        self._reselecting = False


def species_colour_icon(label_index: int):
    """A small square of the species' colour, for combo boxes."""
    from PySide6.QtGui import QIcon, QPixmap

    pixmap = QPixmap(12, 12)
    pixmap.fill(species_colour(label_index))
    return QIcon(pixmap)
