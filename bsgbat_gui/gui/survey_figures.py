"""View → Survey figures…: the survey report's figures, drawn with pyqtgraph in the window.

Activity through the night (passes per 10-minute bin after sunset and before sunrise, one species
or all), species × night per site, the sites by position with their table, and emergence (first
and last pass of each night). The numbers are the report's (:mod:`bsgbat_gui.core.evaluation.
night_activity`, shaped by :mod:`bsgbat_gui.core.evaluation.survey_figures`) for the open
survey at the window's thresholds and decisions; **Refresh** computes them again after a review.
Detected passes are drawn light, verified ones dark, as in the report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from bsgbat_gui.core.evaluation.night_activity import (
    SOURCE_NONE,
    NightActivity,
    PositionError,
    parse_site_position,
)
from bsgbat_gui.core.evaluation.report_svg import DETECTED_COLOUR, VERIFIED_COLOUR
from bsgbat_gui.core.evaluation.survey_figures import (
    REFERENCES,
    activity_counts,
    emergence_by_species,
    most_active_species,
    night_matrices,
    site_points,
)
from bsgbat_gui.core.session.survey_session import STORE_WRITE_ERRORS
from bsgbat_gui.gui.worker import FiguresComputer

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from bsgbat_gui.core.evaluation.night_activity import Position
    from bsgbat_gui.core.review.survey import Survey
    from bsgbat_gui.core.session.survey_session import SurveySession
    from bsgbat_gui.gui.main_window import MainWindow

ALL_SPECIES = "All species"
MAX_CELL_LABELS = 600  # heatmap cells written as "detected / verified" up to this many
SITE_COLUMNS = ("Site", "Latitude", "Longitude", "Position from", "Recordings", "Nights",
                "Detected", "Verified", "Species detected")  # fmt: skip


def _plot(parent: QWidget, x_label: str, y_label: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(parent)
    plot.setBackground("w")
    item = plot.getPlotItem()
    item.showGrid(x=True, y=True, alpha=0.25)
    item.setLabel("bottom", x_label)
    item.setLabel("left", y_label)
    item.setMenuEnabled(False)
    for axis in ("bottom", "left"):
        item.getAxis(axis).setTextPen("k")
        item.getAxis(axis).setPen("k")
        item.getAxis(axis).enableAutoSIPrefix(False)  # degrees and minutes, never "x0.001"
    return plot


def _say_empty(plot: pg.PlotWidget, text: str) -> None:
    """A plot with nothing to draw says why, in its middle."""
    label = pg.TextItem(text, color="#555", anchor=(0.5, 0.5))
    label.setPos(0.5, 0.5)
    plot.getPlotItem().setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
    plot.addItem(label)


def _ticks(names: list[str] | tuple[str, ...]) -> list[list[tuple[float, str]]]:
    return [[(float(i), name) for i, name in enumerate(names)]]


class SurveyFiguresDialog(QDialog):
    """The figures of the open survey (see the module's description)."""

    def __init__(
        self,
        survey_source: Callable[[], Survey | None],
        session: SurveySession,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Survey figures")
        self._survey_source = survey_source
        self.session = session
        self.activity: NightActivity | None = None
        self.tabs = QTabWidget(self)
        # Activity through the night
        activity_page = QWidget(self)
        self.species_box = QComboBox(activity_page)
        self.species_box.setToolTip("The species whose passes are drawn (or all together)")
        self.activity_plots = {
            reference: _plot(activity_page, x_label, "passes") for reference, x_label in REFERENCES
        }
        self.activity_plots["sunrise"].getPlotItem().invertX(True)  # sunrise to the right
        top = QHBoxLayout()
        top.addWidget(QLabel("Species:", activity_page))
        top.addWidget(self.species_box, 1)
        top.addWidget(QLabel("Light bars: detected passes · dark: verified", activity_page))
        layout = QVBoxLayout(activity_page)
        layout.addLayout(top)
        for plot in self.activity_plots.values():
            layout.addWidget(plot, 1)
        self.tabs.addTab(activity_page, "Activity through the night")
        # Species by night
        nights_page = QWidget(self)
        self.site_box = QComboBox(nights_page)
        self.nights_plot = _plot(nights_page, "night", "")
        self.nights_plot.getPlotItem().invertY(True)  # first species at the top
        row = QHBoxLayout()
        row.addWidget(QLabel("Site:", nights_page))
        row.addWidget(self.site_box, 1)
        layout = QVBoxLayout(nights_page)
        layout.addLayout(row)
        layout.addWidget(self.nights_plot, 1)
        self.tabs.addTab(nights_page, "Species × night")
        # Sites
        sites_tab = QWidget(self)
        sites_page = QSplitter(Qt.Orientation.Vertical, sites_tab)
        self.sites_plot = _plot(sites_page, "longitude (°)", "latitude (°)")
        self.sites_table = QTableWidget(0, len(SITE_COLUMNS), sites_page)
        self.sites_table.setHorizontalHeaderLabels(SITE_COLUMNS)
        self.sites_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.sites_table.verticalHeader().hide()
        sites_page.addWidget(self.sites_plot)
        sites_page.addWidget(self.sites_table)
        sites_page.setSizes([400, 200])
        self.folder_box = QComboBox(sites_tab)
        self.folder_box.setToolTip(
            "A folder whose recordings have no GUANO position (their own position always wins)"
        )
        self.position_edit = QLineEdit(sites_tab)
        self.position_edit.setPlaceholderText("latitude, longitude (decimal degrees)")
        self.set_position_button = QPushButton("Set position", sites_tab)
        self.forget_position_button = QPushButton("Forget", sites_tab)
        given = QHBoxLayout()
        given.addWidget(QLabel("Folder without a position:", sites_tab))
        given.addWidget(self.folder_box, 2)
        given.addWidget(self.position_edit, 1)
        given.addWidget(self.set_position_button)
        given.addWidget(self.forget_position_button)
        layout = QVBoxLayout(sites_tab)
        layout.addWidget(sites_page, 1)
        layout.addLayout(given)
        self.tabs.addTab(sites_tab, "Sites")
        # Emergence
        self.emergence_plot = _plot(self, "minutes after sunset", "")
        self.emergence_plot.getPlotItem().invertY(True)
        self.tabs.addTab(self.emergence_plot, "Emergence")

        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setToolTip("Compute the figures again (after reviewing)")
        footer = QHBoxLayout()
        footer.addWidget(self.note, 1)
        footer.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(footer)
        self.refresh_button.clicked.connect(self.refresh)
        self.computer = FiguresComputer(self)
        self.computer.finished.connect(self._computed)
        self._request = self._started = 0  # the latest ask, the latest computation started
        self._retry_soon = False
        self._survey: Survey | None = None
        self.species_box.currentTextChanged.connect(self._draw_activity)
        self.site_box.currentIndexChanged.connect(self._draw_nights)
        self.folder_box.currentIndexChanged.connect(self._show_given_position)
        self.set_position_button.clicked.connect(self._set_position)
        self.position_edit.returnPressed.connect(self._set_position)
        self.forget_position_button.clicked.connect(self._forget_position)
        self.resize(900, 640)

    # -- numbers -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Compute the figures of the survey as the window shows it now (in the background),
        and draw them when they are in; asked again meanwhile, the latest ask is computed
        once the running one ends."""
        survey = self._survey_source()
        self._request += 1
        if survey is None or not survey.recordings:
            self._show(None, survey)
            return
        self._survey = survey
        self.note.setText("Computing the figures…")
        self.refresh_button.setEnabled(False)
        self._start_when_free()

    def _start_when_free(self) -> None:
        if self.computer.is_running:  # its thread ends moments after its result
            if not self._retry_soon:
                self._retry_soon = True
                QTimer.singleShot(50, self._retry)
            return
        assert self._survey is not None
        self._started = self._request
        self.computer.start(self._request, self._survey, self.session.site_positions)

    def _retry(self) -> None:
        self._retry_soon = False
        if self._started != self._request:
            self._start_when_free()

    @property
    def is_computing(self) -> bool:
        """The figures' numbers are being computed (what is drawn is older)."""
        return not self.refresh_button.isEnabled()

    def _computed(self, request: int, activity: NightActivity | None, problem: str) -> None:
        if request != self._request:
            return  # a newer ask is computed next
        self.refresh_button.setEnabled(True)
        self._show(activity, self._survey)
        if problem:
            self.note.setText(f"⚠ The figures could not be computed: {problem}")

    def _show(self, activity: NightActivity | None, survey: Survey | None) -> None:
        self.activity = activity
        self.refresh_button.setEnabled(True)
        positions = self.session.site_positions
        unplaced = sorted({
            r.analysis.info.path.parent for r in (survey.recordings if survey else ())
            if r.analysis.info.metadata.latitude is None
            or r.analysis.info.metadata.longitude is None
        })  # fmt: skip
        shown_folder = self.folder_box.currentData()
        self.folder_box.blockSignals(True)
        self.folder_box.clear()
        for folder in unplaced:
            given = positions.get(str(folder))
            text = str(folder) + (f"  ({given[0]:.5f}, {given[1]:.5f})" if given else "")
            self.folder_box.addItem(text, folder)
        self.folder_box.setCurrentIndex(max(0, self.folder_box.findData(shown_folder)))
        self.folder_box.blockSignals(False)
        for widget in (self.folder_box, self.position_edit, self.set_position_button,
                       self.forget_position_button):  # fmt: skip
            widget.setEnabled(bool(unplaced))
        self._show_given_position()
        activity = self.activity
        species = most_active_species(activity) if activity else []
        current = self.species_box.currentText()
        self.species_box.blockSignals(True)
        self.species_box.clear()
        self.species_box.addItems([ALL_SPECIES, *species])
        self.species_box.setCurrentIndex(max(0, self.species_box.findText(current)))
        self.species_box.blockSignals(False)
        self.matrices = night_matrices(activity) if activity else []
        self.site_box.blockSignals(True)
        self.site_box.clear()
        self.site_box.addItems([m.site for m in self.matrices])
        self.site_box.blockSignals(False)
        self._draw_activity()
        self._draw_nights()
        self._draw_sites()
        self._draw_emergence()
        self.note.setText(self._note())

    def _show_given_position(self) -> None:
        folder = self.folder_box.currentData()
        given = self.session.site_positions.get(str(folder)) if folder is not None else None
        self.position_edit.setText(f"{given[0]:.5f}, {given[1]:.5f}" if given else "")

    def _set_position(self) -> None:
        folder = self.folder_box.currentData()
        if folder is None:
            return
        try:
            _, position = parse_site_position(f"{folder}={self.position_edit.text()}")
        except PositionError as exc:
            self.note.setText(f"⚠ {str(exc).partition(': ')[2] or exc}")
            return
        self._keep_position(folder, position)

    def _forget_position(self) -> None:
        folder = self.folder_box.currentData()
        if folder is not None:
            self._keep_position(folder, None)

    def _keep_position(self, folder: Path, position: Position | None) -> None:
        try:
            self.session.set_site_position(folder, position)
        except STORE_WRITE_ERRORS as exc:
            self.note.setText(f"⚠ The position was not kept: {exc}")
            return
        self.refresh()

    def _note(self) -> str:
        activity = self.activity
        if activity is None:
            return "No figures yet: no recording of this survey is analysed."
        text = (
            f"{activity.placed_passes:,} detected passes placed relative to the sun, "
            f"{activity.unplaced_passes:,} not placed."
        )
        for u in activity.unplaced:
            n = len(u.recordings)
            text += f" {n} recording{'s' if n != 1 else ''} in {u.folder}: {u.reason}."
        return text

    # -- drawing -----------------------------------------------------------------------------

    def _draw_activity(self) -> None:
        chosen = self.species_box.currentText()
        species = None if chosen in ("", ALL_SPECIES) else chosen
        for reference, plot in self.activity_plots.items():
            plot.clear()
            if self.activity is None:
                _say_empty(plot, "No analysed recordings")
                continue
            counts = activity_counts(self.activity, reference, species)
            if not counts:
                _say_empty(plot, "No passes placed relative to the sun")
                continue
            width = self.activity.bin_minutes
            minutes = np.array(list(counts), dtype=float) + width / 2
            detected = np.array([d for d, _ in counts.values()], dtype=float)
            verified = np.array([v for _, v in counts.values()], dtype=float)
            for height, share, colour in (
                (detected, 0.9, DETECTED_COLOUR),
                (verified, 0.5, VERIFIED_COLOUR),
            ):
                bars = pg.BarGraphItem(
                    x=minutes, height=height, width=width * share, brush=colour, pen=None
                )
                plot.addItem(bars)
            # From sunset (or sunrise) on, so one bin shows where it sits in the night.
            item = plot.getPlotItem()
            item.enableAutoRange(axis="y")
            item.setXRange(min(0.0, float(minutes.min()) - width), float(minutes.max()) + width)

    def _draw_nights(self) -> None:
        plot = self.nights_plot
        plot.clear()
        index = self.site_box.currentIndex()
        item = plot.getPlotItem()
        if not 0 <= index < len(self.matrices):
            item.getAxis("bottom").setTicks(None)
            item.getAxis("left").setTicks(None)
            _say_empty(plot, "No passes at the current thresholds")
            return
        matrix = self.matrices[index]
        detected = np.zeros((len(matrix.nights), len(matrix.species)), dtype=float)
        for (species, night), (d, _v) in matrix.values.items():
            detected[matrix.nights.index(night), matrix.species.index(species)] = d
        image = pg.ImageItem(np.log1p(detected))
        image.setLookupTable(
            pg.ColorMap([0.0, 1.0], [QColor("#ffffff"), QColor(VERIFIED_COLOUR)]).getLookupTable()
        )
        image.setRect(-0.5, -0.5, len(matrix.nights), len(matrix.species))
        plot.addItem(image)
        item.enableAutoRange()
        item.getAxis("bottom").setTicks(_ticks(matrix.nights))
        item.getAxis("left").setTicks(_ticks(matrix.species))
        if len(matrix.values) <= MAX_CELL_LABELS:
            peak = float(detected.max()) or 1.0
            for (species, night), (d, v) in matrix.values.items():
                x, y = matrix.nights.index(night), matrix.species.index(species)
                light = np.log1p(d) / np.log1p(peak) < 0.6
                label = pg.TextItem(f"{d}/{v}", color="k" if light else "w", anchor=(0.5, 0.5))
                label.setPos(x, y)
                plot.addItem(label)
        plot.autoRange()

    def _draw_sites(self) -> None:
        plot, table = self.sites_plot, self.sites_table
        plot.clear()
        sites = self.activity.sites if self.activity else ()
        points = site_points(self.activity) if self.activity else []
        if points:
            plot.addItem(pg.ScatterPlotItem(
                x=[p[0] for p in points], y=[p[1] for p in points], size=10,
                brush=VERIFIED_COLOUR, pen=None,
            ))  # fmt: skip
            for lon, lat, name in points:
                label = pg.TextItem(name, color="k", anchor=(0, 1))
                label.setPos(lon, lat)
                plot.addItem(label)
            # Padded around the sites (a tenth of a degree at least: one site is a point).
            lons, lats = [p[0] for p in points], [p[1] for p in points]
            pad = max(0.1, 0.3 * max(max(lons) - min(lons), max(lats) - min(lats)))
            plot.getPlotItem().setRange(
                xRange=(min(lons) - pad, max(lons) + pad),
                yRange=(min(lats) - pad, max(lats) + pad),
                padding=0,
            )
        else:
            _say_empty(plot, "No site with a position (GUANO Loc Position)")
        table.setRowCount(len(sites))
        for r, s in enumerate(sites):
            values = (
                s.name,
                "—" if s.latitude is None else f"{s.latitude:.5f}",
                "—" if s.longitude is None else f"{s.longitude:.5f}",
                "— (none)" if s.position_source == SOURCE_NONE else s.position_source,
                str(s.recordings), str(len(s.nights)), str(s.detections), str(s.verified),
                ", ".join(s.species_detected),
            )  # fmt: skip
            for c, value in enumerate(values):
                table.setItem(r, c, QTableWidgetItem(value))
        table.resizeColumnsToContents()

    def _draw_emergence(self) -> None:
        plot = self.emergence_plot
        plot.clear()
        rows = emergence_by_species(self.activity) if self.activity else []
        names = [species for species, _, _ in rows]
        for y, (_species, first, last) in enumerate(rows):
            plot.addItem(pg.ScatterPlotItem(
                x=first, y=[y] * len(first), size=8, brush=VERIFIED_COLOUR, pen=None,
            ))  # fmt: skip
            plot.addItem(pg.ScatterPlotItem(
                x=last, y=[y] * len(last), size=8, brush=None, pen=pg.mkPen(VERIFIED_COLOUR),
            ))  # fmt: skip
        plot.getPlotItem().getAxis("left").setTicks(_ticks(names) if names else None)
        if rows:
            plot.getPlotItem().enableAutoRange()
        else:
            _say_empty(plot, "No passes placed relative to sunset")


class SurveyFigures(QObject):
    """View → Survey figures…: one dialog per window, computed again each time it is opened."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: SurveyFiguresDialog | None = None

    def open(self) -> None:
        if self.dialog is None:
            window = self.window
            self.dialog = SurveyFiguresDialog(window.survey_for_export, window.session, window)
        self.dialog.refresh()
        self.dialog.show()
        self.dialog.raise_()

    def shutdown(self) -> None:
        """Let the figures being computed finish (the window closes)."""
        if self.dialog is not None:
            self.dialog.computer.shutdown()
