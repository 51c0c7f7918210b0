"""What the window remembers between starts and surveys: its geometry and panels (the user's
settings), the thresholds (settings and review store), the selected detection (review store);
the first start's layout fitted to the screen, and the review layout (F9).

Saving is debounced: a threshold drag or a run of review keys is saved once it settles, closing
saves at once.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, QSize, Qt
from superqt.utils import qdebounced

from bsgbat_gui.core.analysis.thresholds import PresetError, parse_preset, preset_json
from bsgbat_gui.core.session.survey_session import STORE_WRITE_ERRORS

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter

    from bsgbat_gui.core.session.survey_session import SurveySession
    from bsgbat_gui.gui.detections_panel import DetectionsPanel
    from bsgbat_gui.gui.settings import AppSettings
    from bsgbat_gui.gui.threshold_model import ThresholdModel

SAVE_DELAY_MS = 500  # a drag or a run of key presses settles


class ViewState(QObject):
    """Restores and saves the window's layout, thresholds and selection."""

    def __init__(
        self,
        window: QMainWindow,
        session: SurveySession,
        settings: AppSettings,
        thresholds: ThresholdModel,
        detections_panel: DetectionsPanel,
        *,
        splitter: QSplitter,
        threshold_dock: QDockWidget,
        detections_dock: QDockWidget,
        say: Callable[[str], None],
        warn: Callable[[str], None],
    ) -> None:
        super().__init__(window)
        self.window = window
        self.session = session
        self.settings = settings
        self.thresholds = thresholds
        self.detections_panel = detections_panel
        self.splitter = splitter
        self.threshold_dock = threshold_dock
        self.detections_dock = detections_dock
        self._say = say
        self._warn = warn
        self._before_review: tuple[QByteArray, QByteArray] | None = None
        self.save_soon = qdebounced(self.save, timeout=SAVE_DELAY_MS, parent=self)
        thresholds.thresholds_changed.connect(self.save_soon)
        thresholds.combine_changed.connect(self.save_soon)

    def restore(self) -> None:
        """The window as it was left (or fitted to the screen on a first start), with the
        colour map, thresholds and label visibility of last time."""
        w, settings = self.window, self.settings
        geometry = settings.geometry("geometry")
        if geometry is not None:
            w.restoreGeometry(geometry)
        else:
            self.fit_to_screen()
        splitter = settings.geometry("main_splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        state = settings.geometry("window_state")
        if state is not None:
            w.restoreState(state)
        remembered = settings.threshold_settings(self.thresholds.labels)
        if remembered is not None:
            self.thresholds.apply(remembered)
        for label in settings.hidden_labels:
            self.thresholds.set_visible(label, False)
        for label in settings.shown_labels:
            self.thresholds.set_visible(label, True)

    def fit_to_screen(self, size: QSize | None = None) -> None:
        """A first start's size: the screen's free area (at most 1600 × 1000), the spectrogram
        taking what the panels leave; ``size`` for a given one (tests, screenshots)."""
        w = self.window
        if size is None:
            screen = w.screen().availableGeometry()
            size = QSize(min(1600, screen.width()), min(1000, screen.height()))
        w.resize(size)
        width, height = size.width(), size.height()
        thresholds = 300 if width < 1500 else 360
        recordings = max(240, int(0.21 * width))
        self.splitter.setSizes([recordings, max(400, width - thresholds - recordings)])
        w.resizeDocks([self.threshold_dock], [thresholds], Qt.Orientation.Horizontal)
        w.resizeDocks([self.detections_dock], [int(0.25 * height)], Qt.Orientation.Vertical)

    def toggle_review_layout(self, on: bool) -> None:
        """View → Review layout (F9): the spectrogram and tracks take most of the window — the
        recordings list folded away, the thresholds hidden, a short detections table — and
        back. Every panel comes back as it was."""
        w = self.window
        if on:
            self._before_review = (w.saveState(), self.splitter.saveState())
            self.threshold_dock.hide()
            self.splitter.setSizes([0, self.splitter.width()])
            w.resizeDocks(
                [self.detections_dock], [max(120, int(0.2 * w.height()))],
                Qt.Orientation.Vertical,
            )  # fmt: skip
            self._say("Review layout: F9 for the standard layout; PgUp/PgDown, U change recordings")
        elif self._before_review is not None:
            state, splitter = self._before_review
            w.restoreState(state)
            self.splitter.restoreState(splitter)
            self._before_review = None

    def apply_stored(self) -> None:
        """A survey's store was opened: its thresholds and survey species list (what it kept)."""
        text = self.session.stored_thresholds
        if text:
            with contextlib.suppress(PresetError):  # unreadable: keep the current thresholds
                self.thresholds.apply(parse_preset(text, self.thresholds.labels).settings)
        self.thresholds.set_survey_species(self.session.survey_species)

    def save(self) -> None:
        """Thresholds to the settings and, with the selection, to the review store."""
        self.save_soon.cancel()
        settings, labels = self.thresholds.settings(), self.thresholds.labels
        self.settings.set_threshold_settings(settings, labels)
        try:
            self.session.save_view(preset_json(settings, labels), self.detections_panel.selected)
        except STORE_WRITE_ERRORS as exc:  # keep working; say why once
            self._warn(f"Thresholds and selection not saved to the review store: {exc}")

    def save_label_visibility(self) -> None:
        """Which species tracks are shown, for the next start."""
        labels = self.thresholds.labels
        self.settings.set_label_visibility(
            hidden=[x for x in labels if not self.thresholds.is_visible(x)],
            shown=[x for x in labels if self.thresholds.is_visible(x)],
        )

    def save_on_close(self) -> None:
        """Everything, at once: the window's geometry and panels, thresholds, selection."""
        w, settings = self.window, self.settings
        settings.set_geometry("geometry", w.saveGeometry())
        settings.set_geometry("main_splitter", self.splitter.saveState())
        settings.set_geometry("window_state", w.saveState())
        settings.sync()
        self.save()
