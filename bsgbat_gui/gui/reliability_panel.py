"""Review → Reliability: what the decisions say about each species' detections, and where its
threshold should be for a target precision. Numbers from
:mod:`bsgbat_gui.core.evaluation.reliability`.

One row per detected species with decisions: decisions (confirmed), precision at the current
threshold with its 95 % interval, the suggested threshold and what moving there would do.
Below, the selected species' reliability plot: confirmed fraction per probability bin (dot size
grows with the number of decisions), the calibration curve, the current (solid) and suggested
(dashed) thresholds. "Apply" sets the suggested threshold as one undoable step (Ctrl+Z).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import qdebounced

from bsgbat_gui.core.evaluation.reliability import (
    DEFAULT_TARGET_PRECISION,
    Precision,
    ReviewedScores,
    ThresholdAdvice,
    ThresholdEffect,
    advise_threshold,
    precision_at,
    reliability_bins,
    reviewed_scores,
    threshold_effect,
)
from bsgbat_gui.core.review.survey import RecordingRowsCache, Survey
from bsgbat_gui.core.species import species_for_label
from bsgbat_gui.gui.species_style import species_colour
from bsgbat_gui.gui.table_model import ColumnsTableModel, ModelIndex

if TYPE_CHECKING:
    from collections.abc import Callable

    from bsgbat_gui.gui.threshold_model import ThresholdModel

COLUMNS = ("Species", "Decisions", "Precision now", "Suggested", "Moving there")
REFRESH_DELAY_MS = 300


@dataclass(frozen=True)
class SpeciesReliability:
    species: str
    reviewed: ReviewedScores
    current: Precision
    advice: ThresholdAdvice
    effect: ThresholdEffect | None  # on the decided events, when there is advice
    events_now: int
    events_suggested: int | None


def _pct(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.0%}"


class ReliabilityModel(ColumnsTableModel):
    columns = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[SpeciesReliability] = []

    def data(self, index: ModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        row, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.reviewed.warning or row.advice.reason
        return None

    @staticmethod
    def _display(row: SpeciesReliability, col: int) -> str:
        if col == 0:
            return species_for_label(row.species).code + "  " + row.species
        if col == 1:
            return f"{row.reviewed.n} ({row.reviewed.n_confirmed} confirmed)"
        if col == 2:
            c = row.current
            if c.n == 0:
                return f"— at {c.threshold:.3f} (no decided events)"
            return f"{_pct(c.value)} [{c.low:.0%}–{c.high:.0%}] at {c.threshold:.3f}"
        if col == 3:
            if row.advice.threshold is None:
                return "too few decisions" if not row.reviewed.enough else "none reaches target"
            return f"{row.advice.threshold:.3f}"
        if row.effect is None or row.events_suggested is None:
            return ""
        e = row.effect
        parts = [f"events {row.events_now} → {row.events_suggested}"]
        if e.rejected_removed or e.confirmed_removed:
            parts.append(f"drops {e.rejected_removed} rejected, {e.confirmed_removed} confirmed")
        if e.rejected_added or e.confirmed_added:
            parts.append(f"adds {e.confirmed_added} confirmed, {e.rejected_added} rejected")
        return "; ".join(parts)


class SetThresholdCommand(QUndoCommand):
    def __init__(self, thresholds: ThresholdModel, label: str, value: float) -> None:
        code = species_for_label(label).code
        super().__init__(f"threshold {code} → {value:.3f}")
        self.thresholds, self.label = thresholds, label
        self.before, self.after = thresholds.threshold(label), value

    def redo(self) -> None:
        self.thresholds.set_threshold(self.label, self.after)

    def undo(self) -> None:
        self.thresholds.set_threshold(self.label, self.before)


class ReliabilityPanel(QWidget):
    """Reliability of each species' detections from the review, and threshold advice."""

    message = Signal(str)

    def __init__(
        self,
        survey_source: Callable[[], Survey | None],
        thresholds: ThresholdModel,
        undo_stack: QUndoStack,
        events_at: Callable[[str, float], int],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._survey_source = survey_source
        self.thresholds = thresholds
        self.undo_stack = undo_stack
        self._events_at = events_at  # events of a species in the survey at a threshold
        self._rows_cache = RecordingRowsCache()  # rebuilds only the recordings a change touches
        self.target_box = QDoubleSpinBox(self)
        self.target_box.setRange(0.5, 0.999)
        self.target_box.setSingleStep(0.01)
        self.target_box.setDecimals(3)
        self.target_box.setValue(DEFAULT_TARGET_PRECISION)
        self.target_box.setToolTip("Precision the suggested thresholds must reach")
        self.apply_button = QPushButton("Apply suggested threshold", self)
        self.apply_button.setToolTip("Set the selected species' threshold to the suggestion "
                                     "(undo with Ctrl+Z)")  # fmt: skip
        self.apply_button.setEnabled(False)
        self.summary = QLabel("", self)
        self.summary.setWordWrap(True)
        self.model = ReliabilityModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        for col, width in enumerate((220, 130, 210, 90)):
            self.table.setColumnWidth(col, width)
        self.plot = pg.PlotWidget(self)
        self.plot.setLabel("bottom", "Probability (event maximum)")
        self.plot.setLabel("left", "Confirmed fraction")
        # The whole 0..1 range, always: the decisions sit at 0.75-1.0, which a long title
        # (it used to carry the reason) pushed out of the widget on the right.
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.setYRange(0, 1, padding=0.05)
        self.plot.getViewBox().disableAutoRange()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMinimumWidth(280)
        self.plot_note = QLabel("", self)
        self.plot_note.setWordWrap(True)
        self.bins_item = pg.ScatterPlotItem()
        self.curve_item = pg.PlotDataItem(pen=pg.mkPen("#dddddd", width=2))
        self.diagonal = pg.PlotDataItem(
            [0, 1], [0, 1], pen=pg.mkPen("#666666", style=Qt.PenStyle.DotLine)
        )
        self.current_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#ffffff", width=1))
        self.suggested_line = pg.InfiniteLine(
            angle=90, pen=pg.mkPen("#ffd54f", width=2, style=Qt.PenStyle.DashLine)
        )
        for item in (self.diagonal, self.curve_item, self.bins_item, self.current_line,
                     self.suggested_line):  # fmt: skip
            self.plot.addItem(item)

        top = QHBoxLayout()
        top.addWidget(QLabel("Target precision", self))
        top.addWidget(self.target_box)
        top.addWidget(self.apply_button)
        top.addStretch(1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.table)
        plot_box = QWidget(self)
        plot_layout = QVBoxLayout(plot_box)
        plot_layout.setContentsMargins(0, 0, 0, 0)
        plot_layout.addWidget(self.plot, 1)
        plot_layout.addWidget(self.plot_note)
        splitter.addWidget(plot_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)

        self._refresh_soon = qdebounced(self.refresh, timeout=REFRESH_DELAY_MS, parent=self)
        self.target_box.valueChanged.connect(self.schedule_refresh)
        self.apply_button.clicked.connect(self.apply_suggestion)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_selected())

    # -- refreshing ------------------------------------------------------------------------------

    def schedule_refresh(self, *_: object) -> None:
        """Decisions or thresholds changed: recompute once they settle (only while shown)."""
        if self.isVisible():
            self._refresh_soon()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._refresh_soon()

    def refresh(self) -> None:
        survey = self._survey_source()
        selected = self.selected_species()
        rows: list[SpeciesReliability] = []
        if survey is not None:
            target = self.target_box.value()
            # Only recordings with decisions have decided rows.
            decided_paths = {d.path for d in survey.decisions}
            with_decisions = replace(
                survey, recordings=tuple(r for r in survey.recordings if r.path in decided_paths)
            )
            decided = reviewed_scores(
                row
                for recording in self._rows_cache.recording_rows(with_decisions)
                for row in recording.rows
            )
            for species, reviewed in decided.items():
                current_threshold = self.thresholds.threshold(species)
                advice = advise_threshold(reviewed, target)
                effect = events_suggested = None
                if advice.threshold is not None:
                    effect = threshold_effect(reviewed, current_threshold, advice.threshold)
                    events_suggested = self._events_at(species, advice.threshold)
                rows.append(
                    SpeciesReliability(
                        species,
                        reviewed,
                        precision_at(reviewed, current_threshold),
                        advice,
                        effect,
                        self._events_at(species, current_threshold),
                        events_suggested,
                    )
                )
        self.model.set_rows(rows)
        n_decisions = sum(r.reviewed.n for r in rows)
        self.summary.setText(
            f"{n_decisions} decisions on {len(rows)} species. Precision = confirmed share of the "
            "decided events at or above the threshold (95 % interval)."
            if rows
            else "No decisions yet: confirm (A) and reject (R) detections, and each species' "
            "reliability appears here."
        )
        keep = next((i for i, r in enumerate(rows) if r.species == selected), 0 if rows else -1)
        if keep >= 0:
            self.table.selectRow(keep)
        self._show_selected()

    # -- selection and plot ----------------------------------------------------------------------

    def selected_species(self) -> str | None:
        row = self._selected_row()
        return row.species if row is not None else None

    def _selected_row(self) -> SpeciesReliability | None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.rows):
            return None
        return self.model.rows[index.row()]

    def _show_selected(self) -> None:
        row = self._selected_row()
        self.apply_button.setEnabled(row is not None and row.advice.threshold is not None)
        if row is None:
            for item in (self.bins_item, self.curve_item):
                item.setData([], [])
            self.current_line.hide()
            self.suggested_line.hide()
            self.plot.setTitle("")
            self.plot_note.setText("")
            return
        colour = species_colour(max(0, self._label_index(row.species)))
        bins = [b for b in reliability_bins(row.reviewed) if b.n]
        self.bins_item.setData(
            x=[(b.low + b.high) / 2 for b in bins],
            y=[b.fraction for b in bins],
            size=[6 + 3 * math.sqrt(b.n) for b in bins],
            brush=pg.mkBrush(colour),
            pen=pg.mkPen("#ffffff"),
            data=[f"{b.n_confirmed}/{b.n}" for b in bins],
        )
        calibration = row.advice.calibration
        if calibration is not None:
            x = np.linspace(0.01, 0.999, 200)
            self.curve_item.setData(x, calibration.confirmed_probability(x))
        else:
            self.curve_item.setData([], [])
        self.current_line.setValue(self.thresholds.threshold(row.species))
        self.current_line.show()
        if row.advice.threshold is not None:
            self.suggested_line.setValue(row.advice.threshold)
            self.suggested_line.show()
        else:
            self.suggested_line.hide()
        code = species_for_label(row.species).code
        self.plot.setTitle(code, size="9pt")
        self.plot_note.setText(f"{code}: {row.reviewed.warning or row.advice.reason}")

    def _label_index(self, species: str) -> int:
        labels = self.thresholds.labels
        return labels.index(species) if species in labels else -1

    # -- applying --------------------------------------------------------------------------------

    def apply_suggestion(self) -> None:
        row = self._selected_row()
        if row is None or row.advice.threshold is None:
            return
        self.undo_stack.push(
            SetThresholdCommand(self.thresholds, row.species, row.advice.threshold)
        )
        self.message.emit(
            f"{species_for_label(row.species).code} threshold set to {row.advice.threshold:.3f} "
            "(Ctrl+Z undoes)"
        )
