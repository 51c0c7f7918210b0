"""Per-species probability tracks under the spectrogram, x-linked to it.

Each window's probability is drawn at the window's **centre** (start + 0.512 s; the tail window
at its own centre), points joined by lines: windows overlap by half, so drawing them over their
spans would stack two values at every instant.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from bsgbat_gui.core.analysis import RecordingAnalysis
from bsgbat_gui.core.ensemble import CombineMethod
from bsgbat_gui.core.model_card import BACKGROUND_LABEL
from bsgbat_gui.core.species import species_for_label
from bsgbat_gui.gui.species_style import species_colour

DEFAULT_TOP_N = 5


AXIS_WIDTH_PX = 64  # same left-axis width as the spectrogram, so both plots share one time scale


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
        self.legend = self.addLegend(offset=(-10, 5), labelTextSize="8pt")
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
        for curve in self.species_curves.values():
            self.removeItem(curve)
        self.species_curves.clear()
        self.legend.clear()
        if self._analysis is None:
            return
        analysis = self._analysis
        probabilities = analysis.probabilities(self._combine)
        centres = np.array([(w.start_s + w.start_s + 1.024) / 2 for w in analysis.windows])
        centres = np.minimum(centres, analysis.info.duration_s)
        for i in self.visible_labels(probabilities, analysis.labels):
            label = analysis.labels[i]
            colour = species_colour(i)
            curve = self.plot(
                centres,
                probabilities[:, i],
                pen=pg.mkPen(colour, width=2),
                symbol="o",
                symbolSize=5,
                symbolBrush=colour,
                symbolPen=None,
                name=f"{label} ({species_for_label(label).common_name})",
            )
            self.species_curves[label] = curve
