"""The spectrogram, drawn in real seconds against a true kHz axis: the mel spectrogram the model
sees, or a linear-frequency one for measuring calls (one key switches, :meth:`set_linear_axis`).

Mel: the image is placed in (seconds × mel bin) coordinates: x is real time, y runs 0..128 over
the 128 mel bins. The mel axis is not linear in Hz, so the left axis carries ticks at round kHz
values placed at their mel positions.

Linear: y is true kHz. The image is computed in the background for the visible span at about one
column per screen pixel (:attr:`SpectrogramView.linear_wanted`, :meth:`set_linear`) and shown from
9 to 150 kHz (the model's band; up to the Nyquist frequency when that is lower).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Signal
from superqt.utils import qdebounced

from bsgbat_gui.core.audio import dsp
from bsgbat_gui.core.audio.spectrogram import DB_FLOOR, DisplaySpectrogram, mel_band_centres_hz
from bsgbat_gui.core.model_card import FMAX_HZ, FMIN_HZ, FRAME_S, N_MELS
from bsgbat_gui.gui.call_marks import CallMarks
from bsgbat_gui.gui.cursor_readout import CursorReading, CursorReadout
from bsgbat_gui.gui.event_shading import LANES_STRIP_BINS, EventShading
from bsgbat_gui.gui.track_view import AXIS_WIDTH_PX, TrackView

if TYPE_CHECKING:
    from bsgbat_gui.core.audio.linear_spectrogram import LinearSpectrogram
    from bsgbat_gui.core.calls.parameters import CallTable

COLOUR_MAPS = ("viridis", "inferno", "magma", "CET-L1", "CET-L16")
DEFAULT_COLOUR_MAP = "viridis"
_MAJOR_KHZ = (10, 20, 30, 40, 50, 60, 80, 100, 120, 150)
_MINOR_KHZ = (15, 25, 35, 45, 55, 70, 90, 110, 130, 140)


def mel_position(freq_hz: float) -> float:
    """Where ``freq_hz`` sits on the 0..128 mel-bin axis (bin i spans [i, i + 1])."""
    centres = mel_band_centres_hz()
    return float(np.interp(freq_hz, centres, np.arange(N_MELS) + 0.5))


def mel_khz(position: float) -> float:
    """The frequency in kHz at ``position`` on the mel-bin axis (the inverse of
    :func:`mel_position`; beyond the outer bins' centres, the mel scale's own)."""
    centres = mel_band_centres_hz()
    if 0.5 <= position <= N_MELS - 0.5:
        return float(np.interp(position, np.arange(N_MELS) + 0.5, centres)) / 1000.0
    low, high = dsp.hz_to_mel([FMIN_HZ, FMAX_HZ])
    step = (high - low) / (N_MELS + 1)  # the card's bins: N_MELS + 2 edges from fmin to fmax
    return float(dsp.mel_to_hz(low + (position + 0.5) * step)) / 1000.0


def mel_axis_ticks() -> list[list[tuple[float, str]]]:
    """kHz at their mel positions, and the detection lanes' strip above the mel bins."""
    return [
        [(mel_position(k * 1000.0), f"{k}") for k in _MAJOR_KHZ]
        + [(N_MELS + LANES_STRIP_BINS / 2, "events")],
        [(mel_position(k * 1000.0), "") for k in _MINOR_KHZ],
    ]


LINEAR_BAND_KHZ = (9.0, 150.0)  # the linear view's band: the model's, for comparing the two


def linear_band(nyquist_khz: float) -> tuple[float, float, float]:
    """The linear view's y layout: the band shown (bottom, top kHz) and the height of the
    detection lanes' strip above it (in kHz: the mel view's proportion)."""
    bottom, top = LINEAR_BAND_KHZ[0], min(LINEAR_BAND_KHZ[1], nyquist_khz)
    return bottom, top, (top - bottom) * LANES_STRIP_BINS / N_MELS


def linear_axis_ticks(bottom: float, top: float, strip: float) -> list[list[tuple[float, str]]]:
    """Round kHz from ``bottom`` to ``top`` (never in the strip above it), and the strip's name."""
    major, minor = (20, 10) if top - bottom > 80 else (10, 5) if top - bottom > 30 else (5, 1)
    first = int(np.ceil(bottom / minor)) * minor
    values = range(first, int(top) + 1, minor)
    return [
        [(float(k), f"{k}") for k in values if k % major == 0] + [(top + strip / 2, "events")],
        [(float(k), "") for k in values if k % major],
    ]


def max_pool_columns(data: np.ndarray, factor: int, fill: float) -> np.ndarray:
    """Reduce ``data`` [columns, bins] ``factor``-fold along columns, keeping each group's max.

    Max, not mean (pyqtgraph's own downsampling averages): a 5 ms call must stay visible when a
    screen pixel covers a second of recording.
    """
    if factor <= 1:
        return data
    n_groups = -(-data.shape[0] // factor)
    padded = np.full((n_groups * factor, data.shape[1]), fill, data.dtype)
    padded[: data.shape[0]] = data
    return padded.reshape(n_groups, factor, data.shape[1]).max(axis=1)


class ImageLayer:
    """An ImageItem showing a [columns, 128] array placed in time; it draws only what is near the
    visible range, max-pooled to about two columns per screen pixel."""

    def __init__(self, z: float = 0.0) -> None:
        self.item = pg.ImageItem(axisOrder="col-major")
        self.item.setZValue(z)
        self.data: np.ndarray | None = None
        self.start_s = 0.0
        self.seconds_per_column = 1.0
        self.fill = 0.0

    def set_data(
        self, data: np.ndarray | None, start_s: float, seconds_per_column: float, fill: float
    ) -> None:
        self.data, self.start_s = data, start_s
        self.seconds_per_column, self.fill = seconds_per_column, fill
        if data is None or data.shape[0] == 0:
            self.item.clear()
            self.item.hide()

    def refresh(self, x0: float, x1: float, width_px: int, levels: tuple[float, float]) -> None:
        """Draw the columns within one view-width either side of [x0, x1]."""
        data = self.data
        if data is None or data.shape[0] == 0:
            return
        span = max(x1 - x0, self.seconds_per_column)
        first = int(np.floor((x0 - span - self.start_s) / self.seconds_per_column))
        stop = int(np.ceil((x1 + span - self.start_s) / self.seconds_per_column))
        first, stop = max(0, first), min(data.shape[0], stop)
        if stop <= first:
            self.item.hide()
            return
        visible_columns = span / self.seconds_per_column
        factor = max(1, int(visible_columns // (2 * max(width_px, 1))))
        first -= first % factor  # pool on a fixed grid, so panning does not shimmer
        block = max_pool_columns(data[first:stop], factor, self.fill)
        self.item.setImage(block, autoLevels=False, levels=levels)
        self.item.setRect(
            self.start_s + first * self.seconds_per_column,
            0,
            block.shape[0] * factor * self.seconds_per_column,
            N_MELS,
        )
        self.item.show()

    def value_at(self, t_s: float, row: int) -> float | None:
        """The value of the (unpooled) cell at ``t_s``, ``row``; None where there is none."""
        data = self.data
        if data is None or not self.item.isVisible():
            return None
        column = int(np.floor((t_s - self.start_s) / self.seconds_per_column))
        if not (0 <= column < data.shape[0] and 0 <= row < data.shape[1]):
            return None
        return float(data[column, row])


OVERVIEW_MIN_DURATION_S = 20.0  # shorter recordings fit the main view; no overview strip
DETAIL_DELAY_MS = 150  # wait for zooming/panning to settle before asking for detail
REFRESH_DELAY_MS = 30  # redraw the layers once a burst of range changes has settled
# The linear image is computed for the visible span and a quarter of a view-width either side
# (a small pan needs no new image; more would make every image take longer).
LINEAR_MARGIN = 0.25
COMPUTING_LINEAR = "Computing the linear-frequency view…"


class SpectrogramView(pg.GraphicsLayoutWidget):
    """Spectrogram plot + levels/colour histogram, an overview strip for long recordings, and the
    probability tracks underneath; switchable dB / model-input view, mel / linear frequency axis.

    Three mel image layers: the recording's image (reduced to at most 30 000 columns by
    max-pooling), a full-resolution *detail* of the visible span laid over it when the user zooms
    into a long recording (:attr:`detail_wanted` asks for it, :meth:`set_detail` shows it), and
    the overview strip. Each layer draws only what is near the visible range, at about two
    columns per pixel. The linear axis shows one more image instead of the first two, of the
    visible span at screen resolution (:attr:`linear_wanted`, :meth:`set_linear`). The overview
    strip stays mel: it is for finding one's way.
    """

    detail_wanted = Signal(int, int)  # first frame, stop frame
    linear_wanted = Signal(float, float, int)  # start s, end s (true), columns
    frequency_axis_changed = Signal(int)  # 1: linear kHz, 0: mel (an int: see worker.py on bools)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.overview = self._build_overview()
        self.plot = self.addPlot(row=1, col=0)
        self.plot.setLabel("left", "kHz (mel scale)")
        self.plot.setLabel("bottom", "Time (s, real time)")
        self.plot.getAxis("left").setTicks(mel_axis_ticks())
        self.plot.getAxis("left").setWidth(AXIS_WIDTH_PX)
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.setMouseEnabled(x=True, y=False)
        # Above the 128 mel bins, a strip for the detection lanes (one per species).
        top = N_MELS + LANES_STRIP_BINS
        self.plot.setLimits(yMin=0, yMax=top)
        self.plot.setYRange(0, top, padding=0)
        self.plot.showGrid(x=False, y=False)
        self.base_layer = ImageLayer(z=0)
        self.detail_layer = ImageLayer(z=1)
        self.image = self.base_layer.item
        self.plot.addItem(self.base_layer.item)
        self.plot.addItem(self.detail_layer.item)
        self.linear_image = pg.ImageItem(axisOrder="col-major")
        self.linear_image.hide()
        self.plot.addItem(self.linear_image)
        self.histogram = pg.HistogramLUTItem(image=self.image)
        self.histogram.setMaximumWidth(105)  # its default ~130 px are the spectrogram's
        self.addItem(self.histogram, row=1, col=1)
        self.histogram.sigLevelsChanged.connect(self._sync_secondary_images)
        self.histogram.sigLookupTableChanged.connect(self._sync_secondary_images)
        self.event_shading = EventShading()
        self.plot.addItem(self.event_shading)
        self.call_marks = CallMarks(self.plot)  # measured calls: boxes and FME dots
        self.call_marks.set_frequency_axis(self.y_of_khz)
        self.cursors: list[pg.InfiniteLine] = []  # the playback cursor, on each time plot
        self._time_plots: list[pg.PlotItem] = [self.plot]
        self._add_cursor(self.plot)
        self.message = pg.TextItem(anchor=(0.5, 0.5), color="#cccccc")
        self.message.setZValue(30)
        self.plot.addItem(self.message)
        self._spectrogram: DisplaySpectrogram | None = None
        self._detail: DisplaySpectrogram | None = None
        self._model_input: np.ndarray | None = None
        self._show_model_input = False
        self._duration_s = 0.0
        self._db_levels = (DB_FLOOR, 0.0)
        self._colour_map = DEFAULT_COLOUR_MAP
        self._syncing_range = False
        self._linear_axis = False
        self._linear: LinearSpectrogram | None = None
        # The linear image asked for and not yet shown: start, end, seconds per column.
        self._linear_pending: tuple[float, float, float] | None = None
        self._nyquist_khz = LINEAR_BAND_KHZ[1]
        # Each axis keeps its own colour levels (mel dB and linear dBFS are different scales);
        # None: the next image's automatic levels.
        self._axis_levels: dict[bool, tuple[float, float] | None] = {False: None, True: None}
        self._refresh_layers_soon = qdebounced(
            self._refresh_layers, timeout=REFRESH_DELAY_MS, parent=self
        )
        self._ask_for_detail_soon = qdebounced(
            self._ask_for_detail, timeout=DETAIL_DELAY_MS, parent=self
        )
        self._ask_for_linear_soon = qdebounced(
            self._ask_for_linear, timeout=DETAIL_DELAY_MS, parent=self
        )
        self.plot.sigXRangeChanged.connect(self._main_range_changed)
        self.plot.vb.sigResized.connect(self._refresh_layers_soon)
        self.plot.vb.sigResized.connect(self._ask_for_linear_soon)
        self.scene().sigMouseClicked.connect(self._overview_clicked)
        # For the status bar (the window puts it there): what is under the mouse.
        self.readout = CursorReadout(self.reading_at, self.scene().sigMouseMoved)
        self.set_colour_map(DEFAULT_COLOUR_MAP)
        self._apply_frequency_axis()
        self.show_message("Open a recording")

    def _build_overview(self) -> pg.PlotItem:
        overview = pg.PlotItem()
        overview.setMouseEnabled(x=False, y=False)
        overview.hideButtons()
        overview.setMenuEnabled(False)
        overview.getAxis("left").setWidth(AXIS_WIDTH_PX)
        overview.getAxis("left").setTicks([[]])
        overview.getAxis("bottom").enableAutoSIPrefix(False)
        overview.setMaximumHeight(80)
        overview.setYRange(0, N_MELS, padding=0)
        self.overview_layer = ImageLayer()
        overview.addItem(self.overview_layer.item)
        self.overview_region = pg.LinearRegionItem(
            brush=pg.mkBrush(255, 255, 255, 40), pen=pg.mkPen("#ffffff", width=1)
        )
        self.overview_region.setZValue(10)
        overview.addItem(self.overview_region)
        self.overview_region.sigRegionChanged.connect(self._overview_region_changed)
        self._overview_shown = False
        return overview

    def add_track_plot(self, tracks: TrackView) -> None:
        """Put the probability tracks under the spectrogram, same column, time axes linked."""
        self.addItem(tracks, row=2, col=0)
        tracks.setXLink(self.plot)
        self._time_plots.append(tracks)
        self._add_cursor(tracks)
        self.ci.layout.setRowStretchFactor(1, 3)
        self.ci.layout.setRowStretchFactor(2, 2)

    def _add_cursor(self, plot: pg.PlotItem) -> None:
        cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#ff4040", width=2))
        cursor.setZValue(40)
        cursor.hide()
        plot.addItem(cursor, ignoreBounds=True)
        self.cursors.append(cursor)

    def set_cursor(self, t: float | None) -> None:
        """Show the playback cursor at ``t`` (real seconds), or hide it (None); the view follows
        a cursor that leaves it."""
        for cursor in self.cursors:
            cursor.setVisible(t is not None)
            if t is not None:
                cursor.setValue(t)
        if t is not None:
            x0, x1 = self.visible_range()
            if not x0 <= t <= x1:
                width = x1 - x0
                self.plot.setXRange(t - 0.1 * width, t + 0.9 * width, padding=0)

    # -- content -------------------------------------------------------------------------------

    @property
    def spectrogram(self) -> DisplaySpectrogram | None:
        """The recording's display spectrogram being shown (None while a message is)."""
        return self._spectrogram

    def message_text(self) -> str:
        return self.message.toPlainText()

    def show_message(self, text: str) -> None:
        for layer in (self.base_layer, self.detail_layer, self.overview_layer):
            layer.set_data(None, 0.0, 1.0, 0.0)
        self._set_overview_shown(False)
        self._spectrogram = self._detail = None
        self._model_input = None
        self._set_linear_image(None)
        self.event_shading.hide()  # events belong to a picture; none is shown
        self.message.setText(text)
        bottom, top = self.plot.getViewBox().viewRange()[1]
        self.message.setPos(0.5, (bottom + top) / 2)
        self.plot.setLimits(xMin=None, xMax=None)
        self.plot.setXRange(0, 1, padding=0)

    def set_spectrogram(
        self,
        spectrogram: DisplaySpectrogram,
        model_input: np.ndarray | None,
        levels: tuple[float, float],
        *,
        view_range_s: tuple[float, float] | None = None,
        overview: bool = True,
        nyquist_khz: float | None = None,
    ) -> None:
        """Show a recording's dB spectrogram at ``levels`` (dB); keep its model-input image.

        ``view_range_s`` sets the initial view (default: everything the image covers);
        ``nyquist_khz`` (half the true sample rate) bounds the linear axis.
        """
        self.message.setText("")
        self.event_shading.show()
        self._spectrogram = spectrogram
        self._detail = None
        self.detail_layer.set_data(None, 0.0, 1.0, DB_FLOOR)
        self._set_linear_image(None)
        self._model_input = model_input
        self._duration_s = max(spectrogram.duration_s, spectrogram.end_s, 1e-3)
        self._db_levels = levels
        self._axis_levels = {False: levels, True: None}  # a new recording: automatic levels
        self._nyquist_khz = nyquist_khz if nyquist_khz is not None else LINEAR_BAND_KHZ[1]
        if self._linear_axis:
            self._apply_frequency_axis()  # this recording's band
        self.plot.setLimits(xMin=0, xMax=self._duration_s)
        show_overview = overview and spectrogram.duration_s >= OVERVIEW_MIN_DURATION_S
        self._set_overview_shown(show_overview)
        self.overview_layer.set_data(
            spectrogram.db if show_overview else None,
            spectrogram.start_s,
            spectrogram.seconds_per_column,
            DB_FLOOR,
        )
        if show_overview:
            self.overview.setXRange(0, self._duration_s, padding=0)
            self.overview_region.setBounds((0, self._duration_s))
        x0, x1 = view_range_s or (spectrogram.start_s, spectrogram.end_s)
        self._syncing_range = True  # one refresh below, not one per range signal
        self.plot.setXRange(x0, x1, padding=0)
        self._syncing_range = False
        self._draw()
        if show_overview:
            self.overview_region.setRegion((x0, x1))
        if self._linear_axis:
            self._ask_for_linear()  # at once: nothing is drawn until it comes

    def set_detail(self, detail: DisplaySpectrogram) -> None:
        """Lay a finer-resolution span over the (reduced) image."""
        if self._spectrogram is None:
            return
        self._detail = detail
        self._draw()

    def set_show_model_input(self, show: bool) -> None:
        self._show_model_input = show
        self._draw()

    def _draw(self) -> None:
        """Give the layers their data for the current mode, then draw them."""
        spec = self._spectrogram
        if spec is None:
            return
        if self._linear_axis:
            shown = self.linear_image.isVisible()
            self._draw_linear(self.levels() if shown else self._axis_levels[True])
            return
        if self._show_model_input and self._model_input is not None:
            self.base_layer.set_data(self._model_input, spec.start_s, spec.seconds_per_column, 0.0)
            levels = (0.0, 6.0)
            self.histogram.axis.setLabel("model input (0..6)")
        else:
            self.base_layer.set_data(spec.db, spec.start_s, spec.seconds_per_column, DB_FLOOR)
            levels = self._db_levels
            self.histogram.axis.setLabel("dB")
        detail = self._detail
        if detail is not None and not self._show_model_input:
            self.detail_layer.set_data(
                detail.db, detail.start_s, detail.seconds_per_column, DB_FLOOR
            )
        else:
            self.detail_layer.set_data(None, 0.0, 1.0, DB_FLOOR)
        if self._show_model_input and self._model_input is not None:
            self.histogram.setLevels(*levels)
        else:
            self.histogram.setLevels(*(self._axis_levels[False] or levels))
        self._refresh_layers()

    def _refresh_layers(self) -> None:
        if self._spectrogram is None:
            return
        x0, x1 = self.visible_range()
        levels = self.levels()
        width_px = int(self.plot.vb.width())
        if not self._linear_axis:
            self.base_layer.refresh(x0, x1, width_px, levels)
            self.detail_layer.refresh(x0, x1, width_px, levels)
        if self._overview_shown:
            self.overview_layer.refresh(
                0.0, self._duration_s, int(self.overview.vb.width()), self._db_levels
            )
        self._sync_secondary_images()

    def _sync_secondary_images(self, *_args: object) -> None:
        """The images the histogram does not drive follow its colours; the detail its levels."""
        lut = self.histogram.getLookupTable
        for item in (self.image, self.detail_layer.item, self.linear_image):
            if item is not self.histogram.imageItem() and item.image is not None:
                item.setLookupTable(lut)
        if self.detail_layer.item.image is not None and not self._linear_axis:
            self.detail_layer.item.setLevels(self.histogram.getLevels())
        if self.overview_layer.item.image is not None:
            self.overview_layer.item.setLookupTable(lut)

    def auto_levels(self) -> None:
        if self._linear_axis:
            if self._linear is not None:
                self.histogram.setLevels(*self._linear.auto_levels())
        elif self._spectrogram is not None and not self._show_model_input:
            self.histogram.setLevels(*self._db_levels)

    # -- the frequency axis: mel or linear ------------------------------------------------------

    @property
    def linear_axis(self) -> bool:
        """Whether the linear-frequency (kHz) spectrogram is shown instead of the mel one."""
        return self._linear_axis

    @property
    def linear(self) -> LinearSpectrogram | None:
        """The linear-frequency image shown (None until one has been computed)."""
        return self._linear

    def set_linear_axis(self, linear: bool) -> None:
        """Show the linear-frequency spectrogram (True) or the mel one; same time range."""
        if linear == self._linear_axis:
            return
        if self._showing_db():
            self._axis_levels[self._linear_axis] = self.levels()
        self._linear_axis = linear
        self._apply_frequency_axis()
        if linear:
            self._draw_linear(self._axis_levels[True])
            self._ask_for_linear()
        else:
            if self.message_text() == COMPUTING_LINEAR:
                self.message.setText("")
            self._draw()
            self._ask_for_detail_soon()
        self.call_marks.set_frequency_axis(self.y_of_khz)  # marks follow the axis
        self.frequency_axis_changed.emit(int(linear))

    def set_calls(self, calls: CallTable | None) -> None:
        """Mark the shown recording's measured calls (None: none, or not measured yet)."""
        self.call_marks.set_calls(calls)

    def y_of_khz(self, khz: np.ndarray) -> np.ndarray:
        """Where frequencies (true kHz) sit on the y axis shown: mel positions, or kHz."""
        if self._linear_axis:
            return np.asarray(khz, dtype=np.float64)
        centres = mel_band_centres_hz()
        return np.interp(np.asarray(khz) * 1000.0, centres, np.arange(N_MELS) + 0.5)

    def _showing_db(self) -> bool:
        """Whether the histogram's levels are dB of a recording (not the model input's 0..6)."""
        shown = self._linear if self._linear_axis else self._spectrogram
        return shown is not None and (self._linear_axis or not self._show_model_input)

    def _apply_frequency_axis(self) -> None:
        """The y axis, its ticks and range, the lanes' strip and the histogram for the axis."""
        axis = self.plot.getAxis("left")
        if self._linear_axis:
            bottom, top, strip = linear_band(self._nyquist_khz)
            self.plot.setLabel("left", "kHz (linear)")
            axis.setTicks(linear_axis_ticks(bottom, top, strip))
            image = self.linear_image
        else:
            bottom, top, strip = 0.0, float(N_MELS), LANES_STRIP_BINS
            self.plot.setLabel("left", "kHz (mel scale)")
            axis.setTicks(mel_axis_ticks())
            image = self.base_layer.item
        self.plot.setLimits(yMin=bottom, yMax=top + strip)
        self.plot.setYRange(bottom, top + strip, padding=0)
        self.event_shading.set_frame(bottom, top, strip)
        for item in (self.base_layer.item, self.detail_layer.item):
            if self._linear_axis:
                item.hide()
        self.linear_image.setVisible(self._linear_axis and self._linear is not None)
        if self.histogram.imageItem() is not image:
            previous = self.histogram.imageItem()
            if previous is not None:
                previous.sigImageChanged.disconnect(self.histogram.imageChanged)
            levels = self.levels()
            self.histogram.setImageItem(image)  # its histogram, its levels
            self.histogram.setLevels(*levels)

    def set_linear(self, spectrogram: LinearSpectrogram) -> None:
        """Show a span's linear-frequency image (:attr:`linear_wanted` asked for it)."""
        if self._spectrogram is None:
            return
        first = self._axis_levels[True] is None  # of this recording: automatic levels
        self._set_linear_image(spectrogram)
        if first:
            self._axis_levels[True] = spectrogram.auto_levels()
        if self._linear_axis:
            self._draw_linear(self._axis_levels[True] if first else self.levels())

    def _set_linear_image(self, spectrogram: LinearSpectrogram | None) -> None:
        self._linear = spectrogram
        self._linear_pending = None
        if self.message_text() == COMPUTING_LINEAR:
            self.message.setText("")
        if spectrogram is None:
            self.linear_image.clear()
            self.linear_image.hide()

    def _draw_linear(self, levels: tuple[float, float] | None) -> None:
        spec = self._linear
        if spec is None or levels is None:
            self.linear_image.hide()
            return
        # Rows up to the band's top only: above it is the lanes' strip. Row k is centred on its
        # frequency, k * bin_khz.
        _, top, _ = linear_band(self._nyquist_khz)
        rows = min(spec.db.shape[1], int(np.floor(top / spec.bin_khz + 0.5)) + 1)
        self.linear_image.setImage(spec.db[:, :rows], autoLevels=False, levels=levels)
        self.linear_image.setRect(
            spec.start_s, -spec.bin_khz / 2, spec.end_s - spec.start_s, rows * spec.bin_khz
        )
        self.linear_image.show()
        self.histogram.setLevels(*levels)

    def set_colour_map(self, name: str) -> None:
        cmap = pg.colormap.get(name) if name in COLOUR_MAPS else pg.colormap.get(DEFAULT_COLOUR_MAP)
        self._colour_map = name
        self.histogram.gradient.setColorMap(cmap)
        # A named map has 256 stops; drawing a tick for each cost more than the image itself.
        self.histogram.gradient.showTicks(False)

    @property
    def colour_map(self) -> str:
        return self._colour_map

    def levels(self) -> tuple[float, float]:
        low, high = self.histogram.getLevels()
        return float(low), float(high)

    # -- zoom, pan, overview ----------------------------------------------------------------------

    def visible_range(self) -> tuple[float, float]:
        (x0, x1), _ = self.plot.viewRange()
        return float(x0), float(x1)

    def zoom(self, factor: float) -> None:
        """Zoom the time axis about the view's centre (factor < 1 zooms in)."""
        x0, x1 = self.visible_range()
        centre, half = (x0 + x1) / 2, (x1 - x0) * factor / 2
        self.plot.setXRange(centre - half, centre + half, padding=0)

    def pan(self, fraction: float) -> None:
        """Move the view by ``fraction`` of its width (negative: earlier)."""
        x0, x1 = self.visible_range()
        shift = (x1 - x0) * fraction
        self.plot.setXRange(x0 + shift, x1 + shift, padding=0)

    @staticmethod
    def span_with_margin(start_s: float, end_s: float) -> tuple[float, float]:
        """``[start_s, end_s]`` with some context either side (for showing a detection)."""
        margin = max(0.25 * (end_s - start_s), 0.2)
        return max(0.0, start_s - margin), end_s + margin

    def show_span(self, start_s: float, end_s: float) -> None:
        """Zoom to a detection's span, with some context either side."""
        self.plot.setXRange(*self.span_with_margin(start_s, end_s), padding=0)

    def zoom_fit(self) -> None:
        """Show the whole recording."""
        self.plot.setXRange(0, max(self._duration_s, 1e-3), padding=0)

    def _set_overview_shown(self, shown: bool) -> None:
        if shown == self._overview_shown:
            return
        self._overview_shown = shown
        if shown:
            self.addItem(self.overview, row=0, col=0)
        else:
            self.removeItem(self.overview)

    @property
    def overview_shown(self) -> bool:
        return self._overview_shown

    def _main_range_changed(self, *_args: object) -> None:
        if self._syncing_range:
            return
        if self._overview_shown:
            self._syncing_range = True
            self.overview_region.setRegion(self.visible_range())
            self._syncing_range = False
        self._refresh_layers_soon()
        if self._linear_axis:
            self._ask_for_linear_soon()
        elif self._spectrogram is not None and self._spectrogram.frames_per_column > 1:
            self._ask_for_detail_soon()

    def _overview_region_changed(self) -> None:
        if self._syncing_range:
            return
        self._syncing_range = True
        x0, x1 = self.overview_region.getRegion()
        self.plot.setXRange(x0, x1, padding=0)
        self._syncing_range = False
        self._refresh_layers_soon()
        if self._linear_axis:
            self._ask_for_linear_soon()
        else:
            self._ask_for_detail_soon()

    def _overview_clicked(self, event) -> None:
        """A click on the overview centres the main view there."""
        if not self._overview_shown:
            return
        if not self.overview.vb.sceneBoundingRect().contains(event.scenePos()):
            return
        t = float(self.overview.vb.mapSceneToView(event.scenePos()).x())
        x0, x1 = self.visible_range()
        half = (x1 - x0) / 2
        self.plot.setXRange(t - half, t + half, padding=0)

    def _ask_for_detail(self) -> None:
        """Ask for the visible span (with margins) when the reduced image is coarser than the
        screen there, unless the detail already shown covers it finely enough."""
        spec = self._spectrogram
        if spec is None or spec.frames_per_column == 1 or self._show_model_input:
            return
        if self._linear_axis:
            return
        x0, x1 = self.visible_range()
        first = max(0, int(x0 / FRAME_S))
        stop = int(np.ceil(x1 / FRAME_S))
        width_px = max(1, int(self.plot.vb.width()))
        wanted_per_column = max(1, -(-(stop - first) // width_px))
        if wanted_per_column >= spec.frames_per_column:
            return  # zoomed out: the reduced image is as fine as the screen
        detail = self._detail
        if detail is not None:
            detail_stop = detail.first_frame + detail.db.shape[0] * detail.frames_per_column
            covered = detail.first_frame <= first and stop <= detail_stop
            if covered and detail.frames_per_column <= wanted_per_column:
                return
        margin = stop - first  # one view-width either side, for panning
        self.detail_wanted.emit(max(0, first - margin), stop + margin)

    def _ask_for_linear(self) -> None:
        """Ask for the linear image of the visible span (with margins) at one column per screen
        pixel, unless the one shown covers the view finely enough already."""
        if not self._linear_axis or self._spectrogram is None:
            return
        x0, x1 = self.visible_range()
        x0, x1 = max(0.0, x0), min(self._duration_s, x1)
        if x1 <= x0:
            return
        width_px = max(1, int(self.plot.vb.width()))
        wanted = (x1 - x0) / width_px  # seconds per column
        shown = self._linear
        if shown is not None:
            covered = shown.start_s <= x0 + 1e-9 and x1 <= shown.end_s + 1e-9
            # Finer than the screen is fine; coarser is not, unless it is the finest there is.
            if covered and (shown.seconds_per_column <= 1.5 * wanted or shown.is_finest):
                return
        pending = self._linear_pending
        if pending is not None:
            start, end, per_column = pending
            if start <= x0 and x1 <= end and per_column <= 1.5 * wanted:
                return  # on its way
        margin = LINEAR_MARGIN * (x1 - x0)
        start, end = max(0.0, x0 - margin), min(self._duration_s, x1 + margin)
        self._linear_pending = (start, end, wanted)
        if shown is None:  # a long span takes seconds: say why the plot is empty
            (_, _), (bottom, top) = self.plot.viewRange()
            self.message.setText(COMPUTING_LINEAR)
            self.message.setPos((x0 + x1) / 2, (bottom + top) / 2)
        self.linear_wanted.emit(start, end, round((end - start) / wanted))

    # -- what is under the mouse ----------------------------------------------------------------

    def leaveEvent(self, event: QEvent) -> None:
        self.readout.clear_reading()
        super().leaveEvent(event)

    def reading_at(self, scene_pos: QPointF) -> CursorReading | None:
        """True time, true frequency and the cell's value at a scene point of the spectrogram
        (time only over the tracks or the events strip; None elsewhere)."""
        if self._spectrogram is None:
            return None
        if not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            for plot in self._time_plots[1:]:
                if plot.vb.sceneBoundingRect().contains(scene_pos):
                    return CursorReading(float(plot.vb.mapSceneToView(scene_pos).x()))
            return None
        point = self.plot.vb.mapSceneToView(scene_pos)
        t, y = float(point.x()), float(point.y())
        if self._linear_axis:
            _, top, _ = linear_band(self._nyquist_khz)
            if y > top:
                return CursorReading(t)
            linear = self._linear
            return CursorReading(t, y, linear.value_at(t, y) if linear is not None else None)
        if not 0.0 <= y < N_MELS:
            return CursorReading(t)
        model_input = self._show_model_input and self._model_input is not None
        value = None
        for layer in (self.base_layer,) if model_input else (self.detail_layer, self.base_layer):
            value = layer.value_at(t, int(y))
            if value is not None:
                break
        return CursorReading(t, mel_khz(y), value, model_input=model_input)
