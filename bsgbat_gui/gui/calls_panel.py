"""The calls of what the reviewer is deciding on: the selected detection's calls (or, with none
selected, the shown recording's), one row per call with its parameters in true units, and the
detection's summary above them — the numbers a bat worker checks before confirming a species.

The panel only shows; the calls are measured in a compute process
(:class:`~bsgbat_gui.gui.worker.CallMeasurer`) and held by the session
(:meth:`~bsgbat_gui.core.session.survey_session.SurveySession.calls_of`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from bsgbat_gui.core.calls.summary import CallSummary, summarise_calls
from bsgbat_gui.gui.table_model import ColumnsTableModel, ModelIndex

if TYPE_CHECKING:
    from bsgbat_gui.core.calls.parameters import CallTable

# (title, CallTable column, decimals); times in real seconds, the rest in true ms / kHz / dB.
CALL_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("Start (s)", "start_s", 3),
    ("Dur (ms)", "duration_ms", 2),
    ("FME (kHz)", "fme_khz", 1),
    ("Fmax (kHz)", "fmax_khz", 1),
    ("Fmin (kHz)", "fmin_khz", 1),
    ("BW (kHz)", "bandwidth_khz", 1),
    ("Slope (kHz/ms)", "slope_khz_per_ms", 2),
    ("Peak (dB)", "peak_level_db", 1),
    ("SNR (dB)", "snr_db", 1),
    ("Interval (ms)", "interval_ms", 1),
)


def summary_text(summary: CallSummary) -> str:
    """A call summary in words: count, median FME, duration and interval."""
    if summary.n_calls == 0:
        return "no calls found"
    parts = [f"{summary.n_calls} call{'s' if summary.n_calls != 1 else ''}"]
    if not math.isnan(summary.median_fme_khz):
        parts.append(f"median FME {summary.median_fme_khz:.1f} kHz")
    if not math.isnan(summary.median_duration_ms):
        parts.append(f"duration {summary.median_duration_ms:.1f} ms")
    if not math.isnan(summary.median_interval_ms):
        parts.append(f"interval {summary.median_interval_ms:.0f} ms")
    return " · ".join(parts)


def short_summary_text(summary: CallSummary) -> str:
    """A call summary for the status bar: count and median FME."""
    if summary.n_calls == 0:
        return "no calls"
    fme = "" if math.isnan(summary.median_fme_khz) else f", FME {summary.median_fme_khz:.1f} kHz"
    return f"{summary.n_calls} call{'s' if summary.n_calls != 1 else ''}{fme}"


class CallsTableModel(ColumnsTableModel):
    """Rows: the calls of a :class:`CallTable` given by index (a span of the recording)."""

    columns = tuple(title for title, _, _ in CALL_COLUMNS)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table: CallTable | None = None
        self.rows: np.ndarray = np.empty(0, dtype=np.intp)

    def set_calls(self, table: CallTable | None, rows: np.ndarray) -> None:
        """Show calls ``rows`` (indices) of ``table``."""
        self.beginResetModel()
        self.table, self.rows = table, rows
        self.endResetModel()

    def call_index(self, row: int) -> int:
        """The index in the table of the call on ``row``."""
        return int(self.rows[row])

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.table is None:
            return None
        _, field_name, decimals = CALL_COLUMNS[index.column()]
        value = float(getattr(self.table, field_name)[self.rows[index.row()]])
        if role == Qt.ItemDataRole.DisplayRole:
            return "" if math.isnan(value) else f"{value:.{decimals}f}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class CallsPanel(QWidget):
    """The calls table and the summary of the span it shows.

    Signals
    -------
    call_chosen(start_s, end_s)
        The reviewer picked a call: the views zoom to it.
    """

    call_chosen = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary_label = QLabel("Open a recording to measure its calls.", self)
        self.summary_label.setObjectName("calls_summary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = CallsTableModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setDefaultSectionSize(78)
        self.table.selectionModel().currentRowChanged.connect(self._row_chosen)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.table, 1)
        self.span: tuple[float, float] | None = None
        self.what = ""

    def show_status(self, text: str) -> None:
        """Say where the measurement stands (measuring, failed) instead of a summary."""
        self.summary_label.setText(text)

    def show_calls(
        self, calls: CallTable | None, span: tuple[float, float] | None, what: str
    ) -> None:
        """The calls of ``span`` (real seconds; the whole recording when None), described as
        ``what`` (e.g. the detection's species and times); ``calls`` None: not measured yet.
        """
        self.span, self.what = span, what
        if calls is None:
            self.model.set_calls(None, np.empty(0, dtype=np.intp))
            self.summary_label.setText(f"{what}: measuring calls…")
            return
        if span is None:
            rows = np.arange(len(calls), dtype=np.intp)
            summary = summarise_calls(calls, -math.inf, math.inf)
        else:
            inside = (calls.start_s >= span[0]) & (calls.start_s < span[1])
            rows = np.flatnonzero(inside).astype(np.intp)
            summary = summarise_calls(calls, *span)
        self.model.set_calls(calls, rows)
        self.summary_label.setText(f"{what}: {summary_text(summary)}")

    def _row_chosen(self, current: ModelIndex, _previous: ModelIndex) -> None:
        table = self.model.table
        if not current.isValid() or table is None:
            return
        i = self.model.call_index(current.row())
        self.call_chosen.emit(float(table.start_s[i]), float(table.end_s[i]))
