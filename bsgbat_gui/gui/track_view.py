"""Per-species probability tracks under the spectrogram, x-linked to it.

Each window's probability is drawn as a **step over the part of the recording nearest to the
window's centre** (the middle of the audio it covers): windows overlap by half, so drawing each over
its whole 1.024 s span would stack two values at every instant. With the card's 0.5 s hop each step
is 0.5 s wide; the first starts at 0 s, the last ends at the recording's end, so a 0.5 s clip with
one (padded) window shows one flat value across the clip. See :func:`step_edges`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from bsgbat_gui.core.analysis import RecordingAnalysis
from bsgbat_gui.core.ensemble import CombineMethod
from bsgbat_gui.core.model_card import BACKGROUND_LABEL
from bsgbat_gui.core.segments import SegmentWindow
from bsgbat_gui.core.species import species_for_label
from bsgbat_gui.gui.species_style import species_colour

DEFAULT_TOP_N = 5


AXIS_WIDTH_PX = 64  # same left-axis width as the spectrogram, so both plots share one time scale


def step_edges(windows: tuple[SegmentWindow, ...], duration_s: float) -> np.ndarray:
    """Edges (len(windows) + 1) of the steps: midpoints between successive window centres."""
    centres = np.array([(w.start_s + min(w.end_s, duration_s)) / 2 for w in windows])
    inner = (centres[:-1] + centres[1:]) / 2
    return np.concatenate([[0.0], inner, [max(duration_s, float(centres[-1]))]])


class TrackView(pg.PlotItem):
    """A plot item; it lives in the spectrogram view's layout, in the spectrogram's column."""

    def __init__(self) -> None:
        super().__init__()
        self.getAxis("left").setWidth(AXIS_WIDTH_PX)
        self.getAxis("bottom").enableAutoSIPrefix(False)
        self.setLabel("left", "Probability")
        self.setLabel("bottom", "Time (s, real time)")
        self.setYRange(0, 1.02, padding=0)
        self.setMouseEnabled(x=True, y=False)
        self.setLimits(yMin=-0.02, yMax=1.05)
        self.showGrid(x=False, y=True, alpha=0.25)
        # Two columns on a dark, mostly opaque box: readable over the curves, half as tall.
        self.legend = self.addLegend(
            offset=(-10, 5), labelTextSize="8pt", colCount=2, brush=pg.mkBrush(20, 20, 20, 200)
        )
        self.default_line = pg.InfiniteLine(
            pos=0.5, angle=0, pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine)
        )
        self.addItem(self.default_line)
        self._analysis: RecordingAnalysis | None = None
        self._combine: CombineMethod = "mean"
        self.top_n = DEFAULT_TOP_N
        self.selected_labels: set[str] | None = None  # None: top N
        self.show_background = False
        self.species_curves: dict[str, pg.PlotDataItem] = {}
        self._legend_labels: list[str] = []

    def set_analysis(self, analysis: RecordingAnalysis | None) -> None:
        self._analysis = analysis
        self.redraw()

    def set_combine(self, method: CombineMethod) -> None:
        self._combine = method
        self.redraw()

    def visible_labels(self, probabilities: np.ndarray, labels: tuple[str, ...]) -> list[int]:
        """Indices of the labels to draw: the selection, or the top N by peak probability."""
        candidates = [
            i for i, label in enumerate(labels) if self.show_background or label != BACKGROUND_LABEL
        ]
        if self.selected_labels is not None:
            return [i for i in candidates if labels[i] in self.selected_labels]
        peaks = probabilities.max(axis=0)
        ranked = sorted(candidates, key=lambda i: -peaks[i])
        chosen = ranked[: self.top_n]
        if self.show_background:
            chosen += [i for i in candidates if labels[i] == BACKGROUND_LABEL and i not in chosen]
        return chosen

    def redraw(self) -> None:
        """Update the curves in place: one PlotDataItem per label, created once and reused.

        Creating plot items and legend entries is what costs time in pyqtgraph, so a new
        recording only replaces data; the legend is rebuilt only when the visible set changes.
        """
        if self._analysis is None:
            for curve in self.species_curves.values():
                curve.hide()
            self._set_legend([])
            return
        analysis = self._analysis
        probabilities = analysis.probabilities(self._combine)
        edges = step_edges(analysis.windows, analysis.info.duration_s)
        visible = self.visible_labels(probabilities, analysis.labels)
        for i in visible:
            label = analysis.labels[i]
            curve = self.species_curves.get(label)
            if curve is None:
                colour = species_colour(i)
                curve = pg.PlotDataItem(pen=pg.mkPen(colour, width=2), stepMode="center")
                curve.setObjectName(label)
                self.addItem(curve)
                self.species_curves[label] = curve
            curve.setData(edges, probabilities[:, i])
            curve.show()
        shown = {analysis.labels[i] for i in visible}
        for label, curve in self.species_curves.items():
            if label not in shown:
                curve.hide()
        self._set_legend([analysis.labels[i] for i in visible])

    def _set_legend(self, labels: list[str]) -> None:
        if labels == self._legend_labels:
            return
        self._legend_labels = labels
        self.legend.setVisible(bool(labels))  # no empty box while nothing is drawn
        self.legend.clear()
        for label in labels:
            self.legend.addItem(
                self.species_curves[label], f"{label} ({species_for_label(label).common_name})"
            )

    def visible_curves(self) -> dict[str, pg.PlotDataItem]:
        return {k: c for k, c in self.species_curves.items() if c.isVisible()}
