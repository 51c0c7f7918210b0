"""Measured calls drawn over the spectrogram: a thin box from each call's start to its end and
from its Fmin to its Fmax, and a dot at its FME (frequency of maximum energy) — so the reviewer
sees which sounds were measured and where each call's energy peaks.

Two items for any number of calls (one path of boxes, one scatter of dots): an hour of a busy
site holds tens of thousands of calls. Frequencies are placed by the view's frequency axis (mel
positions in the model's view, kHz in the linear view).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt

    from bsgbat_gui.core.calls.parameters import CallTable

MARK_COLOUR = (255, 255, 255)
Z_VALUE = 15  # over the images and the event wash, under the selection outline and messages


class CallMarks:
    """The call boxes and FME dots of one plot."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.boxes = pg.PlotCurveItem(
            pen=pg.mkPen(*MARK_COLOUR, 150, width=1), connect="finite", antialias=False
        )
        self.dots = pg.ScatterPlotItem(
            size=5, pen=pg.mkPen(0, 0, 0, 200), brush=pg.mkBrush(*MARK_COLOUR, 230)
        )
        for item in (self.boxes, self.dots):
            item.setZValue(Z_VALUE)
            plot.addItem(item)
        self._calls: CallTable | None = None
        self._y_of_khz: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]] = lambda khz: (
            khz
        )
        self.shown = True

    @property
    def count(self) -> int:
        """How many calls are drawn."""
        return 0 if self._calls is None or not self.shown else len(self._calls)

    def set_frequency_axis(
        self, y_of_khz: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]
    ) -> None:
        """Where a frequency in kHz sits on the plot's y axis (the view's frequency axis)."""
        self._y_of_khz = y_of_khz
        self._draw()

    def set_calls(self, calls: CallTable | None) -> None:
        """Draw ``calls`` (None or empty: none)."""
        self._calls = calls
        self._draw()

    def set_shown(self, shown: bool) -> None:
        """Show or hide the marks (the calls stay measured)."""
        self.shown = shown
        self._draw()

    def _draw(self) -> None:
        calls = self._calls
        if calls is None or len(calls) == 0 or not self.shown:
            self.boxes.setData([], [])
            self.dots.setData([], [])
            return
        lo = self._y_of_khz(calls.fmin_khz)
        hi = self._y_of_khz(calls.fmax_khz)
        start, end = calls.start_s, calls.end_s
        nan = np.full(len(calls), np.nan)
        # Each box: five corners and a break (NaN), drawn as one path.
        x = np.column_stack([start, end, end, start, start, nan]).ravel()
        y = np.column_stack([lo, lo, hi, hi, lo, nan]).ravel()
        self.boxes.setData(x, y)
        self.dots.setData((start + end) / 2, self._y_of_khz(calls.fme_khz))
