"""Detection events shaded over the spectrogram, one colour per species.

One graphics item paints every event of the shown recording (a 60-minute recording can have
thousands; one pyqtgraph item per event would make every threshold drag rebuild thousands of
items). It paints only the events inside the exposed area: a translucent wash over the event's
span and an opaque bar along the top edge, stacked per species so simultaneous events of
different species stay distinguishable.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from bsgbat_gui.core.model_card import N_MELS

WASH_ALPHA = 38
BAR_HEIGHT = 2.5  # mel bins
SELECTED_PEN_WIDTH = 2


class EventShading(pg.GraphicsObject):
    """Paints ``[start_s, end_s]`` spans in (seconds × mel bin) coordinates."""

    def __init__(self) -> None:
        super().__init__()
        self.starts = np.empty(0)
        self.ends = np.empty(0)
        self.lanes = np.empty(0, dtype=int)
        self.colours: list[QColor] = []
        self.selected: tuple[float, float] | None = None
        self._extent = QRectF(0, 0, 1, N_MELS)
        self.setZValue(5)  # over the images, under the message text

    def set_events(
        self, starts: np.ndarray, ends: np.ndarray, colours: list[QColor], lanes: np.ndarray
    ) -> None:
        """Events to shade; ``lanes`` stacks the top bars (0 = topmost) per species."""
        self.prepareGeometryChange()
        self.starts = np.asarray(starts, dtype=float)
        self.ends = np.asarray(ends, dtype=float)
        self.colours = colours
        self.lanes = np.asarray(lanes, dtype=int)
        right = float(self.ends.max()) if len(self.ends) else 1.0
        self._extent = QRectF(0, 0, max(right, 1e-3), N_MELS)
        self.update()

    def set_selected(self, span: tuple[float, float] | None) -> None:
        """Outline one span (the selected detection)."""
        self.selected = span
        self.update()

    def boundingRect(self) -> QRectF:
        return self._extent

    def paint(self, painter: QPainter, option, widget=None) -> None:
        exposed = option.exposedRect if option is not None else self._extent
        x0, x1 = exposed.left(), exposed.right()
        inside = np.flatnonzero((self.starts < x1) & (self.ends > x0))
        painter.setPen(Qt.PenStyle.NoPen)
        for i in inside:
            colour = QColor(self.colours[i])
            width = self.ends[i] - self.starts[i]
            bar_top = N_MELS - BAR_HEIGHT * (self.lanes[i] + 1)
            painter.setBrush(colour)
            painter.drawRect(QRectF(self.starts[i], bar_top, width, BAR_HEIGHT))
            colour.setAlpha(WASH_ALPHA)
            painter.setBrush(colour)
            painter.drawRect(QRectF(self.starts[i], 0, width, bar_top))
        if self.selected is not None:
            pen = pg.mkPen("#ffffff", width=SELECTED_PEN_WIDTH)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            start, end = self.selected
            painter.drawRect(QRectF(start, 0, end - start, N_MELS))
