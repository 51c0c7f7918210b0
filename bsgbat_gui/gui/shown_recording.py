"""The recording on screen: its spectrogram (loaded off the GUI thread, detail when zoomed in, the
linear-frequency image of the visible span on the linear axis),
its tracks, the shading of its detection events, the selected detection outlined, what the
decision keys act on (said in the status bar) and playback.

Which recording is shown is the session's (:attr:`SurveySession.current_path`); this puts it on
the screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from bsgbat_gui.core.calls.summary import summarise_calls
from bsgbat_gui.core.species import species_for_label
from bsgbat_gui.gui.calls_panel import short_summary_text
from bsgbat_gui.gui.event_shading import lanes_for
from bsgbat_gui.gui.worker import SpectrogramLoader

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from PySide6.QtWidgets import QCheckBox, QLabel

    from bsgbat_gui.core.compute.jobs import LoadedDetail, LoadedLinear, LoadedSpectrogram
    from bsgbat_gui.core.session.selection import SelectedEvent
    from bsgbat_gui.core.session.survey_session import SurveySession
    from bsgbat_gui.gui.analysis_coordinator import AnalysisCoordinator
    from bsgbat_gui.gui.detections_panel import DetectionsPanel
    from bsgbat_gui.gui.playback import PlaybackBar, PlaybackController
    from bsgbat_gui.gui.recordings_panel import RecordingsPanel
    from bsgbat_gui.gui.review_actions import ReviewActions
    from bsgbat_gui.gui.spectrogram_view import SpectrogramView
    from bsgbat_gui.gui.threshold_model import ThresholdModel
    from bsgbat_gui.gui.track_view import TrackView


class ShownRecording(QObject):
    """Puts the session's current recording, and its selected detection, on the screen."""

    def __init__(
        self,
        session: SurveySession,
        *,
        recordings_panel: RecordingsPanel,
        spectrogram_view: SpectrogramView,
        track_view: TrackView,
        detections_panel: DetectionsPanel,
        thresholds: ThresholdModel,
        analysis: AnalysisCoordinator,
        target_label: QLabel,
        say: Callable[[str], None],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.recordings_panel = recordings_panel
        self.spectrogram_view = spectrogram_view
        self.track_view = track_view
        self.detections_panel = detections_panel
        self.thresholds = thresholds
        self.analysis = analysis
        self.target_label = target_label
        self.model_input_box: QCheckBox | None = None  # the toolbar's, once made
        self._say = say
        self.review_actions: ReviewActions | None = None  # set once made (it needs this)
        self.loader = SpectrogramLoader(self)
        self._pending_span: tuple[float, float] | None = None  # zoom once the spectrogram loads
        recordings_panel.recording_selected.connect(self.select_recording)
        self.loader.loaded.connect(self._spectrogram_loaded)
        self.loader.failed.connect(self._spectrogram_failed)
        self.loader.detail_loaded.connect(self._detail_loaded)
        self.loader.linear_loaded.connect(self._linear_loaded)
        spectrogram_view.detail_wanted.connect(self._detail_wanted)
        spectrogram_view.linear_wanted.connect(self._linear_wanted)
        analysis.current_analysed.connect(self.show_tracks)

    @property
    def path(self) -> Path | None:
        """The recording shown."""
        return self.session.current_path

    def show_recording(self, path: Path) -> None:
        """Show ``path`` (selecting its row; directly when the filters hide it)."""
        self.recordings_panel.select_path(path)
        if self.path != path:
            self.select_recording(path)

    def select_recording(self, path: Path) -> None:
        """The recordings table's selection: show ``path``, its analysis next in the queue."""
        if path != self.path:
            self._pending_span = None
        self.session.current_path = path
        selected = self.detections_panel.selected
        if selected is not None and selected.path != path:
            # A detection belongs to its recording: not outlined, highlighted or acted on
            # while another one is shown.
            self.detections_panel.clear_selection()
            self.spectrogram_view.event_shading.set_selected(None)
        self.spectrogram_view.show_message(f"Loading {path.name}…")
        self.loader.request(path)
        self.analysis.prioritise(path)
        self.track_view.set_analysis(self.session.analysis_of(path))
        self.detections_panel.set_current_recording(path)
        self.shade_events()
        self.show_target()

    def show_event(self, event: SelectedEvent) -> None:
        """Show a detection: its recording, zoomed to it, outlined on the spectrogram."""
        span = (event.start_s, event.end_s)
        if event.path != self.path:
            self.show_recording(event.path)
            self.spectrogram_view.event_shading.set_selected(span)
            self._pending_span = span  # applied when its spectrogram has loaded
            self.show_target()
            return
        self.spectrogram_view.event_shading.set_selected(span)
        self.spectrogram_view.show_span(*span)
        self.show_target()

    def step_recording(self, step: int) -> None:
        """PgDown / PgUp: the next / previous recording of the table."""
        table = self.recordings_panel.table
        row = table.currentIndex().row() if table.currentIndex().isValid() else -1
        self.recordings_panel.select_row(max(0, row + step))

    def show_tracks(self) -> None:
        """Draw the shown recording's tracks (its analysis has just arrived)."""
        path = self.path
        if path is not None:
            self.track_view.set_analysis(self.session.analysis_of(path))

    def shade_events(self) -> None:
        """Shade the shown recording's events of the visible species, one lane per species."""
        shading = self.spectrogram_view.event_shading
        detections = self.session.detections
        if detections is None or self.path is None:
            shading.set_events([])
            return
        events = detections.of_recording(self.path)
        shading.set_events(lanes_for(events, self.session.labels, self.thresholds.is_visible))

    def show_target(self) -> None:
        """Say in the status bar what the decision keys act on, and the shown recording's
        review state; draw the target's species track, highlighted."""
        target = self.review_actions.target() if self.review_actions is not None else None
        self.track_view.set_selected_label(target.label if target is not None else None)
        path = self.path
        if path is None:
            self.target_label.setText("")
            return
        row = self.session.recordings.row_for(path)
        name = _short_name(path.name)
        if row is not None and not row.events_total:
            self.target_label.setText(f"{name}: no detections")
            return
        state = (
            f"{row.review_state} ({row.events_reviewed} of {row.events_total} decided)"
            if row is not None
            else ""
        )
        if target is None:
            keys = "no detection selected (Right: the first)"
        else:
            code = species_for_label(target.label).code
            keys = f"A/R/L act on {code} {target.start_s:.2f}–{target.end_s:.2f} s"
            calls = self.session.held_calls(path)
            if calls is not None:  # what a bat worker checks before confirming
                summary = summarise_calls(calls, target.start_s, target.end_s)
                keys += f" ({short_summary_text(summary)})"
        self.target_label.setText(f"{name}: {state} · {keys}")

    def toggle_playback(self, playback: PlaybackController, bar: PlaybackBar) -> None:
        """Play the selected detection when it is in the shown recording, else the visible time
        range; stop if playing."""
        if playback.busy:
            playback.stop()
            self._say("Playback stopped")
            return
        row = self.session.recordings.row_for(self.path) if self.path is not None else None
        selected = self.detections_panel.selected
        if selected is not None and selected.path == self.path:
            start_s, end_s = selected.start_s, selected.end_s
        else:
            start_s, end_s = self.spectrogram_view.visible_range()
        playback.play(row.info if row is not None else None, start_s, end_s, bar.settings())

    # -- the spectrogram loader's results ------------------------------------------------------

    def _spectrogram_loaded(self, loaded: LoadedSpectrogram) -> None:
        if loaded.path != self.path:
            return
        span, self._pending_span = self._pending_span, None
        self.spectrogram_view.set_spectrogram(
            loaded.spectrogram,
            loaded.model_input,
            loaded.levels,
            view_range_s=self.spectrogram_view.span_with_margin(*span) if span else None,
            nyquist_khz=loaded.info.true_rate_hz / 2000.0,
        )
        if self.model_input_box is not None:
            self.model_input_box.setEnabled(loaded.model_input is not None)
        self.session.described(loaded.path, loaded.info)
        if loaded.info.warnings:  # what the file's header says; else the status keeps what
            # the analysis said (a name alone replaced "the classifier is not installed")
            self._say(f"{loaded.path.name} — {'; '.join(loaded.info.warnings)}")
        self.analysis.start_waiting()

    def _spectrogram_failed(self, path: Path, reason: str) -> None:
        if path == self.path:
            self.spectrogram_view.show_message(f"{path.name}: {reason}")
            self.analysis.start_waiting()

    def _detail_wanted(self, first_frame: int, stop_frame: int) -> None:
        if self.path is not None:
            self.loader.request_detail(self.path, first_frame, stop_frame)

    def _detail_loaded(self, detail: LoadedDetail) -> None:
        if detail.path == self.path:
            self.spectrogram_view.set_detail(detail.spectrogram)

    def _linear_wanted(self, start_s: float, end_s: float, columns: int) -> None:
        if self.path is not None:
            self.loader.request_linear(self.path, start_s, end_s, columns)

    def _linear_loaded(self, linear: LoadedLinear) -> None:
        if linear.path == self.path:
            self.spectrogram_view.set_linear(linear.spectrogram)


def _short_name(name: str, limit: int = 28) -> str:
    """A file name cut in the middle to fit the status bar (``Car3702…234204_701.wav``)."""
    return name if len(name) <= limit else f"{name[: limit // 2 - 1]}…{name[-(limit // 2) :]}"
