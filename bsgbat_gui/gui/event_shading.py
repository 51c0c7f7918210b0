"""Detection events shaded on the spectrogram, one colour per species.

One graphics item paints every event of the shown recording (a 60-minute recording can have
thousands; one pyqtgraph item per event would make every threshold drag rebuild thousands of
items). Events are rasterised with numpy at screen resolution over the visible range and drawn
as two small images: a coloured bar per species in a strip **above** the spectrogram's image
(one lane each, stacked: drawn over the spectrogram they hid the 85-150 kHz band where horseshoe
and *Myotis* calls are), and a translucent wash over the spectrogram wherever any visible species
has an event (the colours of simultaneous species are mixed). Painting costs the same for ten
events or ten thousand.

The image's height is the frequency axis's: 128 mel bins, or kHz in the linear view
(:meth:`EventShading.set_frame` says where the image and the strip are).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from bsgbat_gui.core.model_card import N_MELS
from bsgbat_gui.gui.species_style import species_colour

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bsgbat_gui.core.analysis.detections import DetectionEvents

WASH_ALPHA = 40
BAR_HEIGHT_PX = 5  # per species lane, on screen (thinner when many species share the strip)
LANES_STRIP_BINS = 14.0  # the strip above the spectrogram's 128 mel bins, in plot units
SELECTED_PEN_WIDTH = 2
MAX_RASTER_PX = 8192


def span_coverage(
    starts: np.ndarray, ends: np.ndarray, x0: float, seconds_per_px: float, width_px: int
) -> np.ndarray:
    """Which of ``width_px`` pixel columns (from ``x0``) any span touches; every span at least
    one pixel wide, so a short event never disappears when zoomed out."""
    first = np.floor((starts - x0) / seconds_per_px).astype(np.int64)
    stop = np.ceil((ends - x0) / seconds_per_px).astype(np.int64)
    stop = np.maximum(stop, first + 1)
    first, stop = np.clip(first, 0, width_px), np.clip(stop, 0, width_px)
    keep = stop > first
    change = np.zeros(width_px + 1, dtype=np.int64)
    np.add.at(change, first[keep], 1)
    np.add.at(change, stop[keep], -1)
    return np.cumsum(change[:-1]) > 0


Lane = tuple[QColor, np.ndarray, np.ndarray]  # colour, starts, ends


def lanes_for(
    events: DetectionEvents, labels: Sequence[str], is_visible: Callable[[str], bool]
) -> list[Lane]:
    """One lane per species with events (label order), leaving out species not shown."""
    lanes = []
    for label_index in np.unique(events.label_index):
        if is_visible(labels[int(label_index)]):
            mine = events.label_index == label_index
            lanes.append(
                (species_colour(int(label_index)), events.start_s[mine], events.end_s[mine])
            )
    return lanes


class EventShading(pg.GraphicsObject):
    """Paints ``[start_s, end_s]`` spans in (seconds × frequency axis) coordinates, one lane per
    species (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.lanes: list[Lane] = []
        self.selected: tuple[float, float] | None = None
        # The image spans [bottom, top] of the y axis, the lanes' strip [top, top + strip].
        self.bottom, self.top, self.strip = 0.0, float(N_MELS), LANES_STRIP_BINS
        self._right = 1e-3
        self.setZValue(5)  # over the images, under the message text

    def set_frame(self, bottom: float, top: float, strip: float) -> None:
        """Where the image (``bottom``..``top``) and the lanes' strip above it are, in y units:
        mel bins, or kHz in the linear view."""
        self.prepareGeometryChange()
        self.bottom, self.top, self.strip = bottom, top, strip
        self.update()

    @property
    def _extent(self) -> QRectF:
        return QRectF(0, self.bottom, self._right, self.top + self.strip - self.bottom)

    def set_events(self, lanes: list[Lane]) -> None:
        """One lane per species, topmost first: its colour and its events' starts and ends."""
        self.prepareGeometryChange()
        self.lanes = [
            (QColor(colour), np.asarray(starts, float), np.asarray(ends, float))
            for colour, starts, ends in lanes
        ]
        self._right = max([1e-3, *(float(ends.max()) for _, _, ends in self.lanes if len(ends))])
        self.update()

    def set_selected(self, span: tuple[float, float] | None) -> None:
        """Outline one span (the selected detection)."""
        self.selected = span
        self.update()

    def boundingRect(self) -> QRectF:
        return self._extent

    def rasterise(
        self, x0: float, x1: float, width_px: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """RGBA images of ``width_px`` columns over [x0, x1]: the bars (one row per lane, top
        lane first) and the wash (one row). None when nothing is visible there."""
        if not self.lanes or x1 <= x0 or width_px < 1:
            return None
        seconds_per_px = (x1 - x0) / width_px
        bars = np.zeros((len(self.lanes), width_px, 4), np.uint8)
        wash_sum = np.zeros((width_px, 3), np.float64)
        wash_count = np.zeros(width_px, np.int64)
        for lane, (colour, starts, ends) in enumerate(self.lanes):
            inside = (starts < x1) & (ends > x0)
            if not inside.any():
                continue
            covered = span_coverage(starts[inside], ends[inside], x0, seconds_per_px, width_px)
            rgb = (colour.red(), colour.green(), colour.blue())
            bars[lane, covered] = (*rgb, 255)
            wash_sum[covered] += rgb
            wash_count[covered] += 1
        if not wash_count.any():
            return None
        wash = np.zeros((1, width_px, 4), np.uint8)
        any_event = wash_count > 0
        wash[0, any_event, :3] = (wash_sum[any_event] / wash_count[any_event, None]).astype(
            np.uint8
        )
        wash[0, any_event, 3] = WASH_ALPHA
        return bars, wash

    def paint(self, painter: QPainter, option, widget=None) -> None:
        visible = self.viewRect()
        if visible is None:
            return
        x0 = max(visible.left(), 0.0)
        x1 = min(visible.right(), self._extent.right())
        scale = abs(painter.transform().m11())  # device pixels per second
        width_px = min(MAX_RASTER_PX, int(np.ceil((x1 - x0) * scale)))
        images = self.rasterise(x0, x1, width_px)
        if images is not None:
            bars, wash = images
            px_per_unit = abs(painter.transform().m22()) or 1.0
            bars_height = min(BAR_HEIGHT_PX * len(self.lanes) / px_per_unit, self.strip)
            # The view's y axis points up; image rows go down: flip the bars so lane 0 is on top.
            painter.drawImage(
                QRectF(x0, self.top + self.strip - bars_height, x1 - x0, bars_height),
                _rgba_image(np.ascontiguousarray(bars[::-1])),
            )
            painter.drawImage(
                QRectF(x0, self.bottom, x1 - x0, self.top - self.bottom), _rgba_image(wash)
            )
        if self.selected is not None:
            pen = pg.mkPen("#ffffff", width=SELECTED_PEN_WIDTH)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            start, end = self.selected
            painter.drawRect(
                QRectF(start, self.bottom, end - start, self.top + self.strip - self.bottom)
            )


def _rgba_image(pixels: np.ndarray) -> QImage:
    """A QImage over ``pixels`` [rows, columns, 4] uint8 (copied, so the array may go)."""
    rows, columns, _ = pixels.shape
    image = QImage(pixels.data, columns, rows, columns * 4, QImage.Format.Format_RGBA8888)
    return image.copy()
