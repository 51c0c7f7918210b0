"""Review → Evaluate against annotations…: the open survey's analyses against annotation files
(BriteKit CSVs, Raven tables), per species as a table and as precision-recall curves.

Numbers from :mod:`bsgbat_gui.core.evaluation.metrics` (the same as ``bsgbat-gui evaluate``); this
module only draws them. The selected species' curve is drawn thick with its point at the current
threshold marked.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from bsgbat_gui.core.evaluation.annotations import (
    GRANULARITIES,
    AnnotationError,
    AnnotationSet,
    read_annotations,
)
from bsgbat_gui.core.evaluation.metrics import Evaluation, EvaluationError, SpeciesMetrics, evaluate
from bsgbat_gui.core.species import species_for_label
from bsgbat_gui.gui.species_style import species_colour
from bsgbat_gui.gui.table_model import ColumnsTableModel, ModelIndex

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bsgbat_gui.core.analysis.analyse import RecordingAnalysis
    from bsgbat_gui.core.analysis.thresholds import ThresholdSettings
    from bsgbat_gui.core.session.survey_session import SurveySession

COLUMNS = ("Species", "Units", "Positive", "PR-AUC", "ROC-AUC", "Precision", "Recall")


def _num(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.3f}"


class EvaluationModel(ColumnsTableModel):
    columns = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[SpeciesMetrics] = []

    def data(self, index: ModelIndex, role: int = 0) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        m = self.rows[index.row()]
        values = (
            f"{species_for_label(m.species).code}  {m.species}",
            str(m.n_units),
            str(m.n_positive),
            _num(m.pr_auc),
            _num(m.roc_auc),
            _num(m.precision),
            _num(m.recall),
        )
        return values[index.column()]


class EvaluationDialog(QDialog):
    """Evaluates on open and whenever the granularity changes; never blocks the window."""

    def __init__(
        self,
        analyses: Sequence[RecordingAnalysis],
        annotations: AnnotationSet,
        settings: ThresholdSettings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Evaluation against annotations")
        self.resize(1000, 560)
        self.analyses, self.annotations, self.settings = list(analyses), annotations, settings
        self.evaluation: Evaluation | None = None
        self.granularity_box = QComboBox(self)
        allowed = GRANULARITIES[GRANULARITIES.index(annotations.granularity) :]
        self.granularity_box.addItems(list(allowed))
        self.summary = QLabel("", self)
        self.summary.setWordWrap(True)
        self.model = EvaluationModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setColumnWidth(0, 230)
        self.plot = pg.PlotWidget(self)
        self.plot.setLabel("bottom", "Recall")
        self.plot.setLabel("left", "Precision")
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.setYRange(0, 1, padding=0.02)
        self.plot.addLegend(offset=(-10, -10))
        top = QHBoxLayout()
        top.addWidget(QLabel("Unit", self))
        top.addWidget(self.granularity_box)
        top.addStretch(1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.plot)
        splitter.setSizes([540, 440])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self.granularity_box.currentTextChanged.connect(lambda _: self.run())
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._draw())
        self.run()

    def run(self) -> None:
        try:
            self.evaluation = evaluate(
                self.analyses, self.annotations, self.settings, self.granularity_box.currentText()
            )
        except (AnnotationError, EvaluationError) as exc:
            self.evaluation = None
            self.summary.setText(str(exc))
            self.model.set_rows([])
            self._draw()
            return
        e = self.evaluation
        annotated = [m for m in e.species if m.n_positive or m.false_positives]
        self.model.set_rows(annotated)
        notes = []
        if e.not_analysed:
            notes.append(f"{len(e.not_analysed)} annotated recording(s) not open or not analysed")
        if e.problems:
            notes.append(f"{len(e.problems)} annotation row(s) left out: {e.problems[0]}")
        self.summary.setText(
            f"{e.n_units} {e.granularity} units from {len(e.recordings)} recording(s), "
            f"thresholds and combine ({e.combine}) as set in the window. Macro PR-AUC "
            f"{_num(e.macro('pr_auc'))}, ROC-AUC {_num(e.macro('roc_auc'))}. " + "; ".join(notes)
        )
        if annotated:
            self.table.selectRow(0)
        self._draw()

    def _selected(self) -> SpeciesMetrics | None:
        index = self.table.currentIndex()
        return self.model.rows[index.row()] if index.isValid() else None

    def _draw(self) -> None:
        self.plot.clear()
        e = self.evaluation
        if e is None:
            return
        selected = self._selected()
        for m in self.model.rows:
            curve = e.curve(m.species)
            if curve is None:
                continue
            precision, recall = curve
            index = e.labels.index(m.species)
            thick = selected is not None and m.species == selected.species
            self.plot.plot(
                np.r_[0.0, recall], np.r_[precision[0], precision],
                pen=pg.mkPen(species_colour(index), width=3 if thick else 1),
                name=species_for_label(m.species).code, stepMode=None,
            )  # fmt: skip
            if thick and m.precision is not None and m.recall is not None:
                self.plot.plot([m.recall], [m.precision], pen=None, symbol="o", symbolSize=10,
                               symbolBrush=pg.mkBrush(species_colour(index)))  # fmt: skip


def open_evaluation(
    parent: QWidget,
    session: SurveySession,
    settings: ThresholdSettings,
    *,
    paths: list[Path] | None,
    start_folder: Path,
    say: Callable[[str], object],
) -> EvaluationDialog | None:
    """Compare the session's analyses with annotation files (asked for, from
    ``start_folder``, when not given) in a dialog that does not block the window; what is
    wrong is said with ``say``."""
    analyses = session.all_analyses()
    if not analyses:
        say("Open and analyse the annotated recordings first")
        return None
    if paths is None:
        names, _ = QFileDialog.getOpenFileNames(
            parent, "Annotation files (BriteKit CSV, Raven tables)", str(start_folder),
            "Annotations (*.csv *.txt);;All files (*)",
        )  # fmt: skip
        paths = [Path(n) for n in names]
    if not paths:
        return None
    try:
        annotations = read_annotations(paths, session.labels)
    except AnnotationError as exc:
        say(f"Annotations not usable: {exc}")
        return None
    dialog = EvaluationDialog(analyses, annotations, settings, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
