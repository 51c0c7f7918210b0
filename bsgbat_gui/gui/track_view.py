"""Per-species probability tracks under the spectrogram, x-linked to it.

Each window's probability is drawn as a **step over the part of the recording nearest to the
window's centre** (the middle of the audio it covers): windows overlap by half, so drawing each over
its whole 1.024 s span would stack two values at every instant. With the card's 0.5 s hop each step
is 0.5 s wide; the first starts at 0 s, the last ends at the recording's end, so a 0.5 s clip with
one (padded) window shows one flat value across the clip. See :func:`step_edges`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from superqt.utils import qdebounced

from bsgbat_gui.core.models.ensemble import sigmoid
from bsgbat_gui.core.species import species_for_label
from bsgbat_gui.gui.species_style import species_colour
from bsgbat_gui.gui.threshold_model import ThresholdModel

if TYPE_CHECKING:
    from bsgbat_gui.core.analysis.analyse import RecordingAnalysis
    from bsgbat_gui.core.audio.segments import SegmentWindow

DEFAULT_TOP_N = 5


AXIS_WIDTH_PX = 64  # same left-axis width as the spectrogram, so both plots share one time scale


def step_edges(windows: tuple[SegmentWindow, ...], duration_s: float) -> np.ndarray:
    """Edges (len(windows) + 1) of the steps: midpoints between successive window centres."""
    centres = np.array([(w.start_s + min(w.end_s, duration_s)) / 2 for w in windows])
    inner = (centres[:-1] + centres[1:]) / 2
    return np.concatenate([[0.0], inner, [max(duration_s, float(centres[-1]))]])


def pool_steps(
    edges: np.ndarray, values: np.ndarray, factor: int, *, use_min: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Merge every ``factor`` consecutive steps into one holding their maximum (or minimum).

    Groups sit on a fixed grid from the first step, so panning does not make the curve shimmer.
    The maximum keeps what matters on a probability track: a pooled step reaches a threshold
    exactly when one of its segments does.
    """
    if factor <= 1 or len(values) <= 1:
        return edges, values
    starts = np.arange(0, len(values), factor)
    reduce = np.minimum if use_min else np.maximum
    return np.append(edges[starts], edges[-1]), reduce.reduceat(values, starts)


PAN_MARGIN = 0.25  # of the view's width, drawn either side of it


class StepCurve:
    """One step curve whose full data is kept, and drawn pooled to about one step per pixel for
    the visible range (plus a quarter view-width either side, so a pan shows no gap before the
    curve is re-pooled).

    Stroking thousands of steps with a 2-pixel pen cost ~40 ms per repaint of a 60-minute
    recording; pooled, a repaint stays a few milliseconds however long the recording.
    """

    def __init__(self, item: pg.PlotDataItem, *, use_min: bool = False) -> None:
        self.item = item
        self.use_min = use_min
        self.edges = np.zeros(2)
        self.values = np.zeros(1)

    def set_data(self, edges: np.ndarray, values: np.ndarray) -> None:
        self.edges, self.values = edges, np.asarray(values)

    def refresh(self, x0: float, x1: float, width_px: int) -> None:
        margin = PAN_MARGIN * max(x1 - x0, 1e-9)
        first = max(0, int(np.searchsorted(self.edges, x0 - margin, side="right")) - 1)
        stop = min(len(self.values), int(np.searchsorted(self.edges, x1 + margin)) + 1)
        visible_steps = np.searchsorted(self.edges, x1) - np.searchsorted(self.edges, x0)
        factor = max(1, int(visible_steps // max(width_px, 1)))
        first -= first % factor
        edges, values = pool_steps(
            self.edges[first : stop + 1], self.values[first:stop], factor, use_min=self.use_min
        )
        self.item.setData(edges, values, stepMode="center")


PER_MODEL_OFF = "off"
PER_MODEL_BAND = "spread band"
PER_MODEL_TRACKS = "six tracks"
PER_MODEL_MODES = (PER_MODEL_OFF, PER_MODEL_BAND, PER_MODEL_TRACKS)


class ThresholdLine(pg.InfiniteLine):
    """A species' threshold, drawn across the track plot in its colour; dragging it sets the
    threshold in the :class:`ThresholdModel` (the line never keeps its own value)."""

    def __init__(self, model: ThresholdModel, label: str, colour, label_position: float) -> None:
        self.species_label = label
        self._model = model
        code = species_for_label(label).code
        super().__init__(
            pos=model.threshold(label),
            angle=0,
            movable=True,
            bounds=(0.0, 1.0),
            pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine),
            hoverPen=pg.mkPen(colour, width=3),
            label=code + " ≥ {value:.3f}",
            labelOpts={"position": label_position, "color": colour, "anchors": [(0, 1), (0, 1)]},
        )
        self.setZValue(20)
        self.setToolTip(f"{label}: drag to change its threshold")
        self.label.setVisible(False)
        self.sigPositionChanged.connect(self._dragged)

    def _dragged(self) -> None:
        self._model.set_threshold(self.species_label, float(self.value()))

    def sync(self) -> None:
        """Follow the model (without echoing the change back to it)."""
        value = self._model.threshold(self.species_label)
        if abs(float(self.value()) - value) > 1e-9:
            self.blockSignals(True)
            self.setValue(value)
            self.blockSignals(False)
            self.label.valueChanged()  # the text follows even with signals blocked


def legend_html(labels: list[str], curves: dict[str, pg.PlotDataItem]) -> str:
    """A line sample and the species code per label, each in its curve's colour."""
    entries = []
    for label in labels:
        colour = curves[label].opts["pen"].color().name()
        code = species_for_label(label).code
        entries.append(f'<span style="color:{colour}">━━ {code}</span>')
    return (
        '<div style="background-color:rgba(20,20,20,200)">&nbsp;'
        + "&nbsp;&nbsp;".join(entries)
        + "&nbsp;</div>"
    )


REFRESH_DELAY_MS = 30  # re-pool the curves once a burst of range changes has settled


class TrackView(pg.PlotItem):
    """A plot item; it lives in the spectrogram view's layout, in the spectrogram's column.

    What it draws comes from a :class:`ThresholdModel`: the combine method, which species are
    visible (the top N of them by peak probability get a track), and each drawn species'
    threshold as a draggable line. Curves are :class:`StepCurve` s, re-pooled for the visible
    range after zooming or panning.
    """

    def __init__(self, thresholds: ThresholdModel | None = None) -> None:
        super().__init__()
        self.thresholds = thresholds if thresholds is not None else ThresholdModel()
        self.getAxis("left").setWidth(AXIS_WIDTH_PX)
        self.getAxis("bottom").enableAutoSIPrefix(False)
        self.setLabel("left", "Probability")
        self.setLabel("bottom", "Time (s, real time)")
        # Headroom above 1.0 for the legend, so it never covers a track.
        self.setYRange(-0.02, 1.16, padding=0)
        self.setMouseEnabled(x=True, y=False)
        self.setLimits(yMin=-0.02, yMax=1.16)
        self.getAxis("left").setTicks([[(v / 5, f"{v / 5:.1f}") for v in range(6)]])
        self.showGrid(x=False, y=True, alpha=0.25)
        # One line of species codes in their colours on a dark box, top right (full names are in
        # the threshold panel): it covers as little of the curves as possible. One rich-text label
        # rather than pyqtgraph's LegendItem, whose per-entry items took ~10 ms to rebuild each
        # time another recording brought other top species.
        self.legend = pg.LabelItem("", size="8pt")
        self.legend.setParentItem(self.vb)
        self.legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-10, 2))
        self.legend.setZValue(30)
        self.legend.hide()
        self._analysis: RecordingAnalysis | None = None
        self._edges: np.ndarray | None = None
        self.top_n = DEFAULT_TOP_N
        self.species_curves: dict[str, pg.PlotDataItem] = {}
        self._species_steps: dict[str, StepCurve] = {}
        self.threshold_lines: dict[str, ThresholdLine] = {}
        self._legend_labels: list[str] = []
        self.focus_label: str | None = None
        # The species of the detection under review: always drawn (whatever the top N), thicker,
        # its threshold line labelled.
        self.selected_label: str | None = None
        self.per_model_mode = PER_MODEL_OFF
        self._per_model_steps: list[StepCurve] = []
        self._band_edges = (
            StepCurve(pg.PlotDataItem(), use_min=True),
            StepCurve(pg.PlotDataItem()),
        )
        self._band = pg.FillBetweenItem(*(edge.item for edge in self._band_edges))
        self._band.setZValue(-5)
        self.addItem(self._band)
        self._band.hide()
        self._refresh_steps_soon = qdebounced(
            self._refresh_steps, timeout=REFRESH_DELAY_MS, parent=self
        )
        self.vb.sigXRangeChanged.connect(self._refresh_steps_soon)
        self.vb.sigResized.connect(self._refresh_steps_soon)
        self.thresholds.threshold_changed.connect(self._threshold_changed)
        self.thresholds.visibility_changed.connect(self.redraw)
        self.thresholds.combine_changed.connect(self.redraw)

    @property
    def analysis(self) -> RecordingAnalysis | None:
        return self._analysis

    def set_analysis(self, analysis: RecordingAnalysis | None) -> None:
        self._analysis = analysis
        # The steps depend on the windows only: computed once, not on every redraw.
        self._edges = (
            step_edges(analysis.windows, analysis.info.duration_s) if analysis is not None else None
        )
        self.redraw()

    def set_focus(self, label: str | None, mode: str | None = None) -> None:
        """The species whose per-model tracks or spread band is drawn (``mode``: PER_MODEL_*)."""
        self.focus_label = label
        if mode is not None:
            self.per_model_mode = mode
        self.redraw()

    def set_selected_label(self, label: str | None) -> None:
        """The species of the detection the review keys act on (None: none selected)."""
        if label != self.selected_label:
            self.selected_label = label
            self.redraw()

    def visible_labels(self, probabilities: np.ndarray, labels: tuple[str, ...]) -> list[int]:
        """Indices of the labels to draw: the visible ones, at most the top N by peak, plus the
        species under review and the one whose row was last touched, whatever their peak."""
        candidates = [i for i, label in enumerate(labels) if self.thresholds.is_visible(label)]
        peaks = probabilities.max(axis=0)
        chosen = sorted(candidates, key=lambda i: -peaks[i])[: self.top_n]
        for wanted in (self.selected_label, self.focus_label):
            if wanted in labels:
                index = labels.index(wanted)
                if index in candidates and index not in chosen:
                    chosen.append(index)  # the species being looked at is always drawn
        return chosen

    def track_data(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """A drawn species' full-resolution track: step edges and one value per segment."""
        steps = self._species_steps[label]
        return steps.edges, steps.values

    def per_model_data(self) -> list[np.ndarray]:
        """The per-model tracks drawn for the focus species (full resolution)."""
        return [s.values for s in self._per_model_steps if s.item.isVisible()]

    def band_data(self) -> tuple[np.ndarray, np.ndarray]:
        low, high = self._band_edges
        return low.values, high.values

    def redraw(self) -> None:
        """Update the curves in place: one PlotDataItem per label, created once and reused.

        Creating plot items and legend entries is what costs time in pyqtgraph, so a new
        recording only replaces data; the legend is rebuilt only when the visible set changes.
        """
        if self._analysis is None:
            for item in (*self.species_curves.values(), *self.threshold_lines.values()):
                item.hide()
            self._set_legend([])
            self._draw_per_model(None, None)
            return
        analysis = self._analysis
        probabilities = analysis.probabilities(self.thresholds.combine)
        edges = self._edges
        assert edges is not None  # set with the analysis
        visible = self.visible_labels(probabilities, analysis.labels)
        for rank, i in enumerate(visible):
            label = analysis.labels[i]
            if label not in self.species_curves:
                colour = species_colour(i)
                curve = pg.PlotDataItem(pen=pg.mkPen(colour, width=2), stepMode="center")
                curve.setObjectName(label)
                self.addItem(curve)
                self.species_curves[label] = curve
                self._species_steps[label] = StepCurve(curve)
            self._species_steps[label].set_data(edges, probabilities[:, i])
            curve = self.species_curves[label]
            under_review = label == self.selected_label
            curve.setPen(pg.mkPen(species_colour(i), width=4 if under_review else 2))
            curve.setZValue(10 if under_review else 0)
            curve.show()
            self._show_threshold_line(label, i, rank)
        shown = {analysis.labels[i] for i in visible}
        for label, curve in self.species_curves.items():
            if label not in shown:
                curve.hide()
        for label, line in self.threshold_lines.items():
            if label not in shown:
                line.hide()
        self._set_legend([analysis.labels[i] for i in visible])
        self._draw_per_model(analysis, edges)
        self._refresh_steps()

    def _refresh_steps(self) -> None:
        """Re-pool every shown curve for the visible range."""
        (x0, x1), _ = self.vb.viewRange()
        width_px = int(self.vb.width()) or 800
        steps = [s for s in self._species_steps.values() if s.item.isVisible()]
        steps += [s for s in self._per_model_steps if s.item.isVisible()]
        if self._band.isVisible():
            steps += list(self._band_edges)
        for step in steps:
            step.refresh(float(x0), float(x1), width_px)

    def _show_threshold_line(self, label: str, label_index: int, rank: int) -> None:
        line = self.threshold_lines.get(label)
        if line is None:
            # Labels staggered along the line, so lines at the same height stay readable.
            line = ThresholdLine(
                self.thresholds, label, species_colour(label_index), 0.02 + 0.16 * (rank % 6)
            )
            self.addItem(line)
            self.threshold_lines[label] = line
        line.sync()
        focused = label == (self.selected_label or self.focus_label)
        line.setZValue(25 if focused else 20)
        line.label.setVisible(focused)  # one value label: several at 0.5 would overprint
        line.show()

    def _threshold_changed(self, label: str) -> None:
        line = self.threshold_lines.get(label)
        if line is not None:
            line.sync()

    def _draw_per_model(self, analysis: RecordingAnalysis | None, edges) -> None:
        """The focus species' probability under each model: six thin tracks, or the band
        between the lowest and highest, so disagreement between checkpoints shows."""
        focus = self.focus_label
        show = (
            analysis is not None
            and edges is not None
            and focus in analysis.labels
            and self.thresholds.is_visible(focus)
            and self.per_model_mode != PER_MODEL_OFF
        )
        if not show:
            for step in self._per_model_steps:
                step.item.hide()
            self._band.hide()
            return
        assert analysis is not None
        assert focus is not None
        index = analysis.labels.index(focus)
        per_model = sigmoid(analysis.per_model_logits[:, :, index])  # [n_models, n_segments]
        colour = species_colour(index)
        if self.per_model_mode == PER_MODEL_BAND:
            for step in self._per_model_steps:
                step.item.hide()
            low, high = self._band_edges
            low.set_data(edges, per_model.min(axis=0))
            high.set_data(edges, per_model.max(axis=0))
            fill = pg.mkColor(colour)
            fill.setAlpha(70)
            self._band.setBrush(pg.mkBrush(fill))
            self._band.show()
            return
        self._band.hide()
        while len(self._per_model_steps) < len(per_model):
            curve = pg.PlotDataItem(stepMode="center")
            curve.setZValue(-4)
            self.addItem(curve)
            self._per_model_steps.append(StepCurve(curve))
        for k, step in enumerate(self._per_model_steps):
            if k < len(per_model):
                step.item.setPen(pg.mkPen(colour, width=1, style=Qt.PenStyle.DotLine))
                step.set_data(edges, per_model[k])
                step.item.show()
            else:
                step.item.hide()

    def _set_legend(self, labels: list[str]) -> None:
        if labels == self._legend_labels:
            return
        self._legend_labels = labels
        self.legend.setVisible(bool(labels))  # no empty box while nothing is drawn
        self.legend.setText(legend_html(labels, self.species_curves))

    def visible_curves(self) -> dict[str, pg.PlotDataItem]:
        return {k: c for k, c in self.species_curves.items() if c.isVisible()}
