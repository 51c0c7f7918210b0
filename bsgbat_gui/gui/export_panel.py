"""The Export panel (File → Export…, Ctrl+E): preview and write the survey's detections, import
decisions edited in a spreadsheet, write reviewed species into GUANO, and the survey summary.

Everything it shows or writes comes from :mod:`bsgbat_gui.core.review.survey` and
:mod:`bsgbat_gui.core.export.formats` — the same code as ``bsgbat-gui export`` — over the
:class:`~bsgbat_gui.core.review.survey.Survey` the window hands it (its analyses, thresholds and
decisions). Dialogs here never block the event loop: they are opened, and answer by signal.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import qdebounced

from bsgbat_gui.core.audio.guano_write import GuanoUpdate, guano_plan_text
from bsgbat_gui.core.checklist import european_checklist
from bsgbat_gui.core.export.formats import (
    EXPORT_FORMATS,
    FOLDER_FORMATS,
    FORMAT_DESCRIPTIONS,
    FORMAT_SCOPES,
    SUMMARY_COLUMNS,
    ExportError,
    ExportPreview,
    ExportTargetExists,
    common_folder,
    export_survey,
    preview_export,
    summary_table,
)
from bsgbat_gui.core.export.guano import guano_updates
from bsgbat_gui.core.review.connection import StoreError
from bsgbat_gui.core.review.decision_import import DecisionImportError, plan_import
from bsgbat_gui.core.review.survey import (
    RECORDING_SCOPES,
    SCOPES,
    RecordingRows,
    RecordingRowsCache,
    Survey,
    select_recordings,
    summarise,
)
from bsgbat_gui.gui.table_model import ColumnsTableModel, ModelIndex
from bsgbat_gui.gui.worker import GuanoWriter

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bsgbat_gui.gui.review import ReviewController
    from bsgbat_gui.gui.settings import AppSettings

PREVIEW_ROWS = 100
REFRESH_DELAY_MS = 300  # threshold drags and review keys settle before the preview is rebuilt
SCOPE_TEXT = {
    "verified": "Verified (confirmed + relabelled)",
    "detections": "Detections at the current thresholds (not rejected)",
    "all": "All (rejected too)",
}
RECORDINGS_TEXT = {"all": "All recordings", "reviewed": "Reviewed recordings only"}


class TextTableModel(ColumnsTableModel):
    """Rows of text cells under column titles."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[list[str]] = []

    def set_table(self, columns: tuple[str, ...], rows: list[list[str]]) -> None:
        self.beginResetModel()
        self.columns, self.rows = columns, rows
        self.endResetModel()

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and index.isValid():
            return self.rows[index.row()][index.column()]
        return None


def _table_view(model: TextTableModel, parent: QWidget) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)  # one line per row: long paths are elided, the full text in the file
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
    return view


class ExportPanel(QDialog):
    """See the module docstring. ``survey_source`` builds the current survey (None: nothing
    analysed yet); ``review`` applies imports (undoable) and owns the store.

    Signals
    -------
    message(str)
        One line for the window's status bar after each write.
    """

    message = Signal(str)

    def __init__(
        self,
        survey_source: Callable[[], Survey | None],
        review: ReviewController,
        parent: QWidget | None = None,
        settings: AppSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.survey_source = survey_source
        self.review = review
        self.settings = settings
        self.survey: Survey | None = None  # as of the last refresh
        self.recordings: list[RecordingRows] = []  # its rows at the current thresholds
        self._rows_cache = RecordingRowsCache()  # rebuilds only the recordings a change touches
        self.preview: ExportPreview | None = None
        self.guano_writer = GuanoWriter(self)
        self._guano_failures: list[str] = []
        self._guano_done = 0
        self._dialog: QWidget | None = None  # the open file/confirmation dialog
        self._refresh_soon = qdebounced(self.refresh, timeout=REFRESH_DELAY_MS, parent=self)
        self._build()
        self.guano_writer.file_done.connect(self._guano_file_done)
        self.guano_writer.finished.connect(self._guano_finished)
        self.resize(900, 560)

    # -- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._build_export_tab(), "Export")
        self.tabs.addTab(self._build_summary_tab(), "Summary")
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)

    def _build_export_tab(self) -> QWidget:
        page = QWidget(self)
        self.format_box = QComboBox(page)
        for fmt in EXPORT_FORMATS:
            self.format_box.addItem(FORMAT_DESCRIPTIONS[fmt], fmt)
        self.scope_box = QComboBox(page)
        for scope in SCOPES:
            self.scope_box.addItem(SCOPE_TEXT[scope], scope)
        self.recordings_box = QComboBox(page)
        for which in RECORDING_SCOPES:
            self.recordings_box.addItem(RECORDINGS_TEXT[which], which)
        form = QFormLayout()
        form.addRow("Format", self.format_box)
        form.addRow("Detections", self.scope_box)
        form.addRow("Recordings", self.recordings_box)
        self.count_label = QLabel("", page)
        self.preview_model = TextTableModel(page)
        self.preview_view = _table_view(self.preview_model, page)
        self.export_button = QPushButton("Export…", page)
        self.export_button.setDefault(True)
        self.import_button = QPushButton("Import decisions from CSV…", page)
        self.import_button.setToolTip(
            "Read statuses, final species and notes edited in an exported CSV back into the "
            "review store (undoable)"
        )
        self.guano_button = QPushButton("Write species into WAV files (GUANO)…", page)
        self.guano_button.setToolTip(
            "Set 'Species Manual ID' in each reviewed recording; audio and other metadata kept"
        )
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.guano_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(self.count_label)
        layout.addWidget(self.preview_view, 1)
        layout.addLayout(buttons)
        for box in (self.format_box, self.scope_box, self.recordings_box):
            box.currentIndexChanged.connect(self._show_preview)
        self.export_button.clicked.connect(self.choose_export_target)
        self.import_button.clicked.connect(self.choose_import_file)
        self.guano_button.clicked.connect(self.confirm_guano_write)
        return page

    def _build_summary_tab(self) -> QWidget:
        page = QWidget(self)
        self.summary_model = TextTableModel(page)
        self.summary_view = _table_view(self.summary_model, page)
        self.chart = pg.PlotWidget(page)
        self.chart.setBackground(None)
        self.chart.setLabel("bottom", "detections")
        self.chart.addLegend(offset=(-10, 10))
        self.chart.setMouseEnabled(x=False, y=False)
        self.chart.setMinimumHeight(180)
        self.save_summary_button = QPushButton("Save summary CSV…", page)
        self.save_summary_button.clicked.connect(self.choose_summary_target)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.save_summary_button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.summary_view, 1)
        layout.addLayout(row)
        return page

    # -- state --------------------------------------------------------------------------------

    @property
    def fmt(self) -> str:
        return str(self.format_box.currentData())

    @property
    def scope(self) -> str | None:
        """The detections the chosen format writes (None: the format does not select any)."""
        allowed = FORMAT_SCOPES[self.fmt]
        chosen = str(self.scope_box.currentData())
        if not allowed:
            return None
        return chosen if chosen in allowed else allowed[0]

    @property
    def which(self) -> str:
        return str(self.recordings_box.currentData())

    def set_choice(self, *, fmt: str | None = None, scope: str | None = None,
                   which: str | None = None) -> None:  # fmt: skip
        for box, value in ((self.format_box, fmt), (self.scope_box, scope),
                           (self.recordings_box, which)):  # fmt: skip
            if value is not None:
                box.setCurrentIndex(box.findData(value))

    def schedule_refresh(self) -> None:
        """Thresholds, decisions or analyses changed: rebuild when visible, once settled."""
        if self.isVisible():
            self._refresh_soon()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.refresh()

    def _settle(self) -> None:
        """A change is waiting for the debounce: apply it before writing or importing."""
        self._refresh_soon.flush()

    def refresh(self) -> None:
        survey = self.survey = self.survey_source()
        self.recordings = self._rows_cache.recording_rows(survey) if survey is not None else []
        self._show_preview()
        self._show_summary()
        can_write = self.review.can_write
        self.import_button.setEnabled(can_write)
        self.guano_button.setEnabled(can_write and not self.guano_writer.is_running)
        if survey is None or not self.recordings:
            self.status.setText("Nothing analysed yet: open a folder and let it analyse.")

    def _show_preview(self) -> None:
        self.preview = preview_export(
            self.fmt, self.recordings, scope=self.scope, which=self.which, limit=PREVIEW_ROWS
        )
        self.preview_model.set_table(self.preview.columns, self.preview.rows)
        shown = min(self.preview.count, PREVIEW_ROWS)
        self.count_label.setText(
            f"{self.preview.count} {self.preview.unit} will be written"
            + (f" (first {shown} shown)" if self.preview.count > shown else "")
        )
        allowed = FORMAT_SCOPES[self.fmt]
        if len(allowed) == 1:  # show what will be written (BriteKit: verified only)
            self.scope_box.setCurrentIndex(self.scope_box.findData(allowed[0]))
        self.scope_box.setEnabled(len(allowed) > 1)
        self.export_button.setEnabled(bool(self.recordings))

    def _show_summary(self) -> None:
        summary = summarise(self.recordings, self.which)
        self.summary_model.set_table(SUMMARY_COLUMNS, summary_table(summary))
        self.summary_view.resizeColumnsToContents()
        chart = self.chart
        chart.clear()
        counts = summary.species
        # Horizontal bars, one row per species: its code stands on its own line on the left
        # axis (side by side under vertical bars, the codes of a survey's species overlapped).
        y = np.arange(len(counts), dtype=float)
        if len(counts):
            detections = [c.detections for c in counts]
            confirmed = [c.confirmed for c in counts]
            chart.addItem(pg.BarGraphItem(x0=0, y=y - 0.2, width=detections, height=0.4,
                                          brush=(150, 150, 150), name="detections"))  # fmt: skip
            chart.addItem(pg.BarGraphItem(x0=0, y=y + 0.2, width=confirmed, height=0.4,
                                          brush=(60, 160, 90), name="confirmed"))  # fmt: skip
        checklist = european_checklist()
        ticks = [
            (float(i), taxon.code if (taxon := checklist.find(c.species)) else c.species[:12])
            for i, c in enumerate(counts)
        ]
        chart.getAxis("left").setTicks([ticks])
        chart.getAxis("bottom").setTicks(None)
        chart.getViewBox().invertY(True)  # the first species on top, as in the table

    # -- export -------------------------------------------------------------------------------

    def choose_export_target(self) -> None:
        fmt = self.fmt
        dialog = QFileDialog(self, f"Export: {FORMAT_DESCRIPTIONS[fmt]}")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDirectory(str(self.start_folder()))
        if fmt in FOLDER_FORMATS:
            dialog.setFileMode(QFileDialog.FileMode.Directory)
            dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        else:
            dialog.setNameFilter("CSV files (*.csv)")
            dialog.setDefaultSuffix("csv")
            dialog.selectFile("id.csv" if fmt == "kaleidoscope" else f"bat-{fmt}.csv")
        # The save dialog itself asks before a single file is replaced.
        single_file = fmt not in FOLDER_FORMATS
        dialog.fileSelected.connect(lambda name: self.export_to(Path(name), overwrite=single_file))
        self._open(dialog)

    def export_to(self, target: Path, *, overwrite: bool = False) -> bool:
        """Write the chosen format to ``target``; asks (without blocking) before replacing."""
        self._settle()
        fmt = self.fmt
        try:
            result = export_survey(
                fmt, target, self.recordings, scope=self.scope, which=self.which,
                overwrite=overwrite,
            )  # fmt: skip
        except ExportTargetExists as exc:
            self._ask_overwrite(target, str(exc))
            return False
        except ExportError as exc:
            self._say(f"Not exported: {exc}")
            return False
        except OSError as exc:
            self._say(f"Not exported: {target}: {exc.strerror or exc}")
            return False
        if self.settings is not None:
            self.settings.export_folder = target if fmt in FOLDER_FORMATS else target.parent
        where = target if len(result.files) == 1 else f"{len(result.files)} files in {target}"
        self._say(f"Exported {result.rows} {self.preview.unit if self.preview else ''} to {where}")
        return True

    def start_folder(self) -> Path:
        """Where a save dialog starts: the last export's folder, else the survey's folder (not
        the folder the app was started from)."""
        remembered = self.settings.export_folder if self.settings is not None else None
        if remembered is not None and remembered.is_dir():
            return remembered
        paths = [r.recording.path for r in self.recordings]
        if paths:
            return common_folder(paths)
        return Path.home()

    def _ask_overwrite(self, target: Path, reason: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Replace files?", f"{reason}.\n\nReplace them?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self,
        )  # fmt: skip
        box.button(QMessageBox.StandardButton.Yes).clicked.connect(
            lambda: self.export_to(target, overwrite=True)
        )
        self._open(box)

    def choose_summary_target(self) -> None:
        dialog = QFileDialog(self, "Save summary")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDirectory(str(self.start_folder()))
        dialog.setNameFilter("CSV files (*.csv)")
        dialog.setDefaultSuffix("csv")
        dialog.selectFile("bat-summary.csv")
        dialog.fileSelected.connect(lambda name: self.save_summary(Path(name)))
        self._open(dialog)

    def save_summary(self, target: Path) -> bool:
        try:
            result = export_survey("summary", target, self.recordings, which=self.which,
                                   overwrite=True)  # fmt: skip
        except (ExportError, OSError) as exc:
            self._say(f"Summary not saved: {exc}")
            return False
        if self.settings is not None:
            self.settings.export_folder = target.parent
        self._say(f"Summary saved to {target} ({result.rows} lines)")
        return True

    # -- import -------------------------------------------------------------------------------

    def choose_import_file(self) -> None:
        dialog = QFileDialog(self, "Import decisions from an exported CSV")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter("CSV files (*.csv)")
        dialog.fileSelected.connect(lambda name: self.import_from(Path(name)))
        self._open(dialog)

    def import_from(self, path: Path) -> bool:
        """Match ``path``'s rows and apply the changes as one undoable step (Ctrl+Z)."""
        self._settle()
        if self.survey is None:
            self._say("Nothing analysed yet: open the survey's folder first.")
            return False
        try:
            plan = plan_import(path, self.recordings, self.review.decisions, self.survey.labels,
                               reviewer=self.review.reviewer)  # fmt: skip
        except DecisionImportError as exc:
            self._say(f"Not imported: {exc}")
            return False
        applied = self.review.apply_import(plan.changes, f"import {path.name}")
        lines = [f"{path.name}: {plan.describe()}" + ("" if applied or not plan.changes
                                                      else " — nothing saved")]  # fmt: skip
        if plan.problems:
            lines.append("Not matched (left alone):")
            lines.extend(plan.problems[:20])
            if len(plan.problems) > 20:
                lines.append(f"… and {len(plan.problems) - 20} more")
        self._say("\n".join(lines))
        return applied or not plan.changes

    # -- GUANO write-back -----------------------------------------------------------------------

    def confirm_guano_write(self) -> None:
        updates = guano_updates(select_recordings(self.recordings, self.which))
        if not updates:
            self._say("No selected recording has a confirmed species yet: nothing to write.")
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Write species into WAV files?",
            f"Write 'Species Manual ID' into the GUANO metadata of {len(updates)} WAV file(s)?"
            "\n\nEach file is rewritten: the audio is kept byte for byte and every other "
            "metadata field is kept. Files that cannot be rewritten safely are left alone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDetailedText(guano_plan_text(updates))
        box.button(QMessageBox.StandardButton.Yes).clicked.connect(
            lambda: self.write_guano(updates)
        )
        self._open(box)

    def write_guano(self, updates: Sequence[GuanoUpdate]) -> None:
        self._guano_failures = []
        self._guano_done = 0
        self.guano_button.setEnabled(False)
        self._say(f"Writing GUANO into {len(updates)} file(s)…")
        self.guano_writer.start(updates)

    def _guano_file_done(self, path: Path, sha256: str, error: str) -> None:
        if error:
            self._guano_failures.append(f"{path.name}: {error}")
            return
        self._guano_done += 1
        store = self.review.store
        if store is not None and not store.read_only:
            try:  # the audio is unchanged: keep the cached analysis valid
                store.file_rewritten(path, sha256)
            except (sqlite3.Error, OSError, StoreError) as exc:
                self._guano_failures.append(f"{path.name}: written; cache not updated ({exc})")

    def _guano_finished(self) -> None:
        self.guano_button.setEnabled(self.review.can_write)
        lines = [f"GUANO written to {self._guano_done} file(s), "
                 f"{len(self._guano_failures)} failed"]  # fmt: skip
        lines.extend(self._guano_failures[:20])
        self._say("\n".join(lines))

    # -- helpers ------------------------------------------------------------------------------

    def _open(self, dialog: QFileDialog | QMessageBox) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialog = dialog
        dialog.open()

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.message.emit(text.splitlines()[0])

    def closeEvent(self, event: Any) -> None:
        self.guano_writer.shutdown()
        super().closeEvent(event)
