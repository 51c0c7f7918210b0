"""The mel spectrogram the model sees, drawn in real seconds against a true kHz axis.

The image is placed in (seconds × mel bin) coordinates: x is real time, y runs 0..128 over the
128 mel bins. The mel axis is not linear in Hz, so the left axis carries ticks at round kHz
values placed at their mel positions.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from bsgbat_gui.core.model_card import N_MELS
from bsgbat_gui.core.spectrogram import DisplaySpectrogram, mel_band_centres_hz
from bsgbat_gui.gui.track_view import AXIS_WIDTH_PX, TrackView

COLOUR_MAPS = ("viridis", "inferno", "magma", "CET-L1", "CET-L16")
DEFAULT_COLOUR_MAP = "viridis"
_MAJOR_KHZ = (10, 20, 30, 40, 50, 60, 80, 100, 120, 150)
_MINOR_KHZ = (15, 25, 35, 45, 55, 70, 90, 110, 130, 140)


def mel_position(freq_hz: float) -> float:
    """Where ``freq_hz`` sits on the 0..128 mel-bin axis (bin i spans [i, i + 1])."""
    centres = mel_band_centres_hz()
    return float(np.interp(freq_hz, centres, np.arange(N_MELS) + 0.5))


def mel_axis_ticks() -> list[list[tuple[float, str]]]:
    return [
        [(mel_position(k * 1000.0), f"{k}") for k in _MAJOR_KHZ],
        [(mel_position(k * 1000.0), "") for k in _MINOR_KHZ],
    ]


class SpectrogramView(pg.GraphicsLayoutWidget):
    """Spectrogram plot + a levels/colour histogram; switchable dB / model-input view."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plot = self.addPlot(row=0, col=0)
        self.plot.setLabel("left", "Frequency (kHz, mel scale)")
        self.plot.setLabel("bottom", "Time (s, real time)")
        self.plot.getAxis("left").setTicks(mel_axis_ticks())
        self.plot.getAxis("left").setWidth(AXIS_WIDTH_PX)
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.setLimits(yMin=0, yMax=N_MELS)
        self.plot.setYRange(0, N_MELS, padding=0)
        self.plot.showGrid(x=False, y=False)
        # autoDownsample: a long recording has far more columns than the screen has pixels.
        self.image = pg.ImageItem(axisOrder="col-major", autoDownsample=True)
        self.plot.addItem(self.image)
        self.histogram = pg.HistogramLUTItem(image=self.image)
        self.addItem(self.histogram, row=0, col=1)
        self.message = pg.TextItem(anchor=(0.5, 0.5), color="#cccccc")
        self.plot.addItem(self.message)
        self._db: np.ndarray | None = None
        self._model_input: np.ndarray | None = None
        self._show_model_input = False
        self._duration_s = 0.0
        self._colour_map = DEFAULT_COLOUR_MAP
        self.set_colour_map(DEFAULT_COLOUR_MAP)
        self.show_message("Open a recording")

    def add_track_plot(self, tracks: TrackView) -> None:
        """Put the probability tracks under the spectrogram, same column, time axes linked."""
        self.addItem(tracks, row=1, col=0)
        tracks.setXLink(self.plot)
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 2)

    # -- content -------------------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        self.image.clear()
        self._db = self._model_input = None
        self.message.setText(text)
        self.message.setPos(0.5, N_MELS / 2)
        self.plot.setXRange(0, 1, padding=0)

    def set_spectrogram(
        self,
        spectrogram: DisplaySpectrogram,
        model_input: np.ndarray | None,
        levels: tuple[float, float],
    ) -> None:
        """Show a recording's dB spectrogram at ``levels`` (dB); keep its model-input image."""
        self.message.setText("")
        self._db = spectrogram.db
        self._model_input = model_input
        self._duration_s = max(spectrogram.db.shape[0] * spectrogram.seconds_per_column, 1e-3)
        self._db_levels = levels
        self.plot.setLimits(xMin=0, xMax=self._duration_s)
        self._draw()
        self.plot.setXRange(0, self._duration_s, padding=0)

    @property
    def has_model_input(self) -> bool:
        return self._model_input is not None

    def set_show_model_input(self, show: bool) -> None:
        self._show_model_input = show
        self._draw()

    def _draw(self) -> None:
        if self._db is None:
            return
        if self._show_model_input and self._model_input is not None:
            data, levels = self._model_input, (0.0, 6.0)
            self.histogram.axis.setLabel("model input (0..6)")
        else:
            data, levels = self._db, self._db_levels
            self.histogram.axis.setLabel("dB")
        self.image.setImage(data, autoLevels=False, levels=levels)
        self.image.setRect(0, 0, self._duration_s, N_MELS)
        self.histogram.setLevels(*levels)

    def auto_levels(self) -> None:
        if self._db is not None and not self._show_model_input:
            self.histogram.setLevels(*self._db_levels)

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
