"""The main window: composition. It makes the session (the survey's state, Qt-free), the panels
that show it and the controllers that act on it, and wires their signals:

* :class:`~bsgbat_gui.core.session.survey_session.SurveySession` — recordings, analyses,
  detections, the review store and its decisions;
* :class:`~bsgbat_gui.gui.window_actions.WindowActions` — every command, toolbar and menu;
* :class:`~bsgbat_gui.gui.model_set_controller.ModelSetController` — the classifier in use;
* :class:`~bsgbat_gui.gui.analysis_coordinator.AnalysisCoordinator` — the analysis runs;
* :class:`~bsgbat_gui.gui.shown_recording.ShownRecording` — the recording on screen;
* :class:`~bsgbat_gui.gui.view_state.ViewState` — layout, thresholds, selection kept;
* :class:`~bsgbat_gui.gui.survey_opener.SurveyOpener` — opening folders, files, the demo;
* :class:`~bsgbat_gui.gui.calls_controller.CallsController` — the shown recording's calls;
* :class:`~bsgbat_gui.gui.survey_species_dialog.SurveySpeciesController` — the area's species.

The computing happens in ``core`` (called from the worker threads of ``gui/worker.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from bsgbat_gui import __version__
from bsgbat_gui.core.session.survey_session import SurveySession
from bsgbat_gui.gui.analysis_coordinator import AnalysisCoordinator
from bsgbat_gui.gui.calls_controller import CallsController
from bsgbat_gui.gui.calls_panel import CallsPanel
from bsgbat_gui.gui.detections_panel import DetectionsPanel
from bsgbat_gui.gui.evaluation_dialog import open_evaluation
from bsgbat_gui.gui.export_panel import ExportPanel
from bsgbat_gui.gui.model_set_controller import ModelSetController
from bsgbat_gui.gui.models_banner import ModelsBanner
from bsgbat_gui.gui.playback import PlaybackController
from bsgbat_gui.gui.recordings_panel import RecordingsModel, RecordingsPanel
from bsgbat_gui.gui.reliability_panel import ReliabilityPanel
from bsgbat_gui.gui.report_export import ReportExporter
from bsgbat_gui.gui.review import ReviewController
from bsgbat_gui.gui.review_actions import ReviewActions
from bsgbat_gui.gui.review_keys import ReviewKeyFilter
from bsgbat_gui.gui.sample_dialog import SampleReviewer
from bsgbat_gui.gui.settings import AppSettings
from bsgbat_gui.gui.shown_recording import ShownRecording
from bsgbat_gui.gui.spectrogram_view import SpectrogramView
from bsgbat_gui.gui.survey_figures import SurveyFigures
from bsgbat_gui.gui.survey_opener import SurveyOpener
from bsgbat_gui.gui.survey_species_dialog import SurveySpeciesController
from bsgbat_gui.gui.theme import ThemeFollower
from bsgbat_gui.gui.threshold_model import ThresholdModel
from bsgbat_gui.gui.threshold_panel import ThresholdPanel
from bsgbat_gui.gui.track_view import TrackView
from bsgbat_gui.gui.view_state import ViewState
from bsgbat_gui.gui.welcome import WelcomePanel
from bsgbat_gui.gui.window_actions import WindowActions

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent

    from bsgbat_gui.core.review.survey import Survey


class MainWindow(QMainWindow):
    def __init__(
        self,
        *,
        paths: list[Path],
        models_dir: Path | None = None,
        settings: AppSettings | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle(f"bsgbat-gui {__version__}")
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else AppSettings()
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        self.theme = ThemeFollower(app, self.settings.theme, self)
        # Quitting with the window still open (session end, app.quit()) shuts the helpers down
        # as closing does: a QThread destroyed while running aborts the process.
        self._helpers_shut_down = False
        app.aboutToQuit.connect(self._shut_down_helpers)
        self.session = SurveySession()
        self._dialog: QWidget | None = None  # the open shortcuts / evaluation / species window
        self.export_panel: ExportPanel | None = None  # made when first shown (Ctrl+E)
        self._build_panels()
        self._build_layout()
        self._build_controllers(models_dir)
        self.action_table = WindowActions(self)
        self._connect()
        self.view_state.restore()
        self.action_table.restore_colour_map()
        self.model_sets.check()
        if paths:
            self.open_paths(paths)
        # Keys start in the recordings list; the review keys reach the review from any panel
        # but a text field being typed in (review_keys), and Escape comes back here.
        self.recordings_panel.table.setFocus()
        self.review_keys = ReviewKeyFilter(self, self.recordings_panel.table)
        app.installEventFilter(self.review_keys)

    # -- construction ------------------------------------------------------------------------

    def _build_panels(self) -> None:
        self.recordings = RecordingsModel(self.session.recordings, self)
        self.recordings_panel = RecordingsPanel(self.recordings, self)
        self.spectrogram_view = SpectrogramView(self)
        # One model of thresholds/visibility/combine that every view reads (see threshold_model).
        self.thresholds = ThresholdModel(parent=self)
        self.track_view = TrackView(self.thresholds)
        self.spectrogram_view.add_track_plot(self.track_view)
        self.threshold_panel = ThresholdPanel(self.thresholds, self)
        self.detections_panel = DetectionsPanel(self)
        self.calls_panel = CallsPanel(self)
        self.review = ReviewController(self.session, self)
        self.review.reviewer = self.settings.reviewer
        self.playback = PlaybackController(self)
        self.banner = ModelsBanner(self)
        self.welcome = WelcomePanel(self)
        # The status bar: what the decision keys act on and where the shown recording's review
        # stands, always in sight, so a key never acts on something the reviewer does not see.
        self.target_label = QLabel("", self)
        self.target_label.setObjectName("review_target")
        self.target_label.setToolTip("What A (confirm), R (reject), L (relabel), N (note) act on")
        self.status_label = QLabel("", self)
        self.store_label = QLabel("", self)
        self.store_label.setToolTip("The review store: decisions and cached analyses")
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setMaximumWidth(260)
        self.progress_bar.setFormat("%v / %m recordings")
        self.progress_bar.hide()
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the analysis after the current batch")
        self.cancel_button.hide()
        bar = self.statusBar()
        bar.addWidget(self.target_label)
        bar.addWidget(self.status_label, 1)
        readout = self.spectrogram_view.readout  # time, frequency, level under the mouse
        for widget in (readout, self.store_label, self.progress_bar, self.cancel_button):
            bar.addPermanentWidget(widget)

    def _build_layout(self) -> None:
        self.main_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_splitter.addWidget(self.recordings_panel)
        self.main_splitter.addWidget(self.spectrogram_view)
        self.main_splitter.setStretchFactor(1, 3)
        self.main_splitter.setCollapsible(0, True)  # drag it shut: the spectrogram gets it all
        self.main_splitter.setCollapsible(1, False)
        self.main_splitter.setSizes([330, 1000])
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        for widget, stretch in ((self.banner, 0), (self.welcome, 0), (self.main_splitter, 1)):
            layout.addWidget(widget, stretch)
        self.setCentralWidget(central)
        self.reliability_panel = ReliabilityPanel(  # it reads only the decided recordings
            lambda: self.session.survey_for_export(self.thresholds.settings(), decided_only=True),
            self.thresholds, self.review.undo_stack,
            self.session.analyses.event_count, self,
        )  # fmt: skip
        area = Qt.DockWidgetArea
        self.threshold_dock = self._dock(
            "Thresholds", self.threshold_panel, area.RightDockWidgetArea
        )
        self.detections_dock = self._dock(
            "Detections", self.detections_panel, area.BottomDockWidgetArea
        )
        self.reliability_dock = self._dock(
            "Reliability", self.reliability_panel, area.BottomDockWidgetArea
        )
        # The calls beside the detections: what the reviewer measures while deciding (split
        # before the tabs: a dock split from a tabbed one becomes another tab).
        self.calls_dock = self._dock("Calls", self.calls_panel, area.BottomDockWidgetArea)
        self.splitDockWidget(self.detections_dock, self.calls_dock, Qt.Orientation.Horizontal)
        self.tabifyDockWidget(self.detections_dock, self.reliability_dock)
        self.detections_dock.raise_()  # the detections tab in front
        # The thresholds run the full height; the detections sit under the recordings and views.
        self.setCorner(Qt.Corner.BottomRightCorner, area.RightDockWidgetArea)
        self.resizeDocks([self.threshold_dock], [370], Qt.Orientation.Horizontal)
        self.resizeDocks([self.detections_dock], [190], Qt.Orientation.Vertical)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{title.lower()}_dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_controllers(self, models_dir: Path | None) -> None:
        say = self.status_label.setText
        self.model_sets = ModelSetController(
            self.banner, self.settings, models_dir=models_dir, say=say, parent=self
        )
        self.analysis_runs = AnalysisCoordinator(
            self.session, self.model_sets, self.progress_bar, self.cancel_button, say=say,
            parent=self,
        )  # fmt: skip
        self.analysis = self.analysis_runs.worker
        self.view_state = ViewState(
            self, self.session, self.settings, self.thresholds, self.detections_panel,
            splitter=self.main_splitter, threshold_dock=self.threshold_dock,
            detections_dock=self.detections_dock, say=say, warn=self.review_problem,
        )  # fmt: skip
        self.shown = ShownRecording(
            self.session, recordings_panel=self.recordings_panel,
            spectrogram_view=self.spectrogram_view, track_view=self.track_view,
            detections_panel=self.detections_panel, thresholds=self.thresholds,
            analysis=self.analysis_runs, target_label=self.target_label, say=say, parent=self,
        )  # fmt: skip
        self.spectrogram_loader = self.shown.loader
        self.review_actions = ReviewActions(
            self.review, self.detections_panel, self.settings,
            labels=lambda: self.session.labels or self.thresholds.labels,
            current_path=lambda: self.session.current_path,
            recording_order=self.recordings_panel.recording_order,
            recording_states=self.session.recordings.needs_review,
            show_recording=self.shown.show_recording, say=say, parent=self,
        )  # fmt: skip
        self.shown.review_actions = self.review_actions
        self.opener = SurveyOpener(self)
        self.report_exporter = ReportExporter(self)
        self.sample_reviewer = SampleReviewer(self)
        self.survey_figures = SurveyFigures(self)
        self.calls = CallsController(
            self.session, self.calls_panel, self.detections_panel, self.spectrogram_view,
            warn=self.review_problem, parent=self,
        )  # fmt: skip
        self.survey_species = SurveySpeciesController(self)

    def _connect(self) -> None:
        actions, shown, session = self.action_table, self.shown, self.session
        self.shown.model_input_box = actions.model_input_box
        actions.colour_map_box.currentTextChanged.connect(actions.colour_map_chosen)
        actions.auto_levels_button.clicked.connect(self.spectrogram_view.auto_levels)
        actions.model_input_box.toggled.connect(self.spectrogram_view.set_show_model_input)
        self.thresholds.thresholds_changed.connect(self.refresh_detections)
        self.thresholds.visibility_changed.connect(self._visibility_changed)
        self.thresholds.combine_changed.connect(self._combine_changed)
        self.threshold_panel.focus_changed.connect(self.track_view.set_focus)
        self.threshold_panel.per_model_mode_changed.connect(
            lambda mode: self.track_view.set_focus(self.track_view.focus_label, mode)
        )
        self.threshold_panel.top_n_changed.connect(self._top_n_changed)
        self.threshold_panel.message.connect(self.status_label.setText)
        self.detections_panel.event_selected.connect(shown.show_event)
        shown.loader.loaded.connect(self.calls.recording_loaded)
        self.recordings_panel.recording_selected.connect(self.calls.recording_selected)
        session.calls_changed.connect(lambda _path: shown.show_target())  # the calls said
        self.detections_panel.event_selected.connect(self.view_state.save_soon)
        self.review.decisions_changed.connect(self._decisions_changed)
        self.review.problem.connect(self.review_problem)
        self.analysis_runs.survey_refresh_wanted.connect(self.refresh_detections)
        self.analysis_runs.analysis_added.connect(self._labels_known)
        self.model_sets.models_installed.connect(self.opener.analyse_waiting)
        self.playback.cursor_moved.connect(self.spectrogram_view.set_cursor)
        self.playback.message.connect(self.status_label.setText)
        self.playback.playing_changed.connect(
            lambda playing: actions.play_action.setText("Stop" if playing else "Play / stop")
        )
        self.reliability_panel.message.connect(self.status_label.setText)
        self.welcome.open_folder_requested.connect(self.opener.choose_folder)
        self.welcome.open_files_requested.connect(self.opener.choose_files)
        self.welcome.open_demo_requested.connect(self.opener.open_demo)
        session.detections_changed.connect(self._export_inputs_changed)

    @property
    def current_path(self) -> Path | None:
        """The recording shown (the session's)."""
        return self.session.current_path

    # -- opening recordings --------------------------------------------------------------------

    def open_paths(self, paths: list[Path]) -> None:
        """Open folders or files (see :class:`~bsgbat_gui.gui.survey_opener.SurveyOpener`)."""
        self.opener.open_paths(paths)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_paths(paths)
            event.acceptProposedAction()

    # -- what every view shows -------------------------------------------------------------------

    def refresh_detections(self) -> None:
        """Find every analysed recording's events at the current thresholds and show them: the
        detections table, the shading of the shown recording, the recordings' columns."""
        session = self.session
        session.analyses.set_combine(self.thresholds.combine)
        self.analysis_runs.recombine_if_wanted()
        labels = session.labels
        detections = session.refresh_detections(self.thresholds.thresholds_array(labels))
        self.detections_panel.set_detections(
            detections, labels, session.decisions, session.attached, session.sample_mask()
        )
        self.shown.shade_events()
        wanted = session.take_pending_selection()
        if wanted is not None and (row := self.detections_panel.model.row_of(wanted)) is not None:
            self.detections_panel.select_row(row)
        self.shown.show_target()

    def _labels_known(self, labels: tuple[str, ...]) -> None:
        self.thresholds.set_labels(labels)  # once per model set: a no-op after
        self.detections_panel.set_labels(labels)

    def _decisions_changed(self) -> None:
        self.detections_panel.set_decisions(self.session.decisions, self.session.attached)
        self.shown.show_target()
        self._export_inputs_changed()

    def _visibility_changed(self, _label: str) -> None:
        self.detections_panel.set_visible_labels(self.thresholds.visible_labels())
        self.shown.shade_events()
        self.view_state.save_label_visibility()

    def _combine_changed(self, _method: str) -> None:
        self.refresh_detections()

    def _top_n_changed(self, n: int) -> None:
        self.track_view.top_n = n
        self.track_view.redraw()

    def review_problem(self, message: str) -> None:
        self.status_label.setText(f"⚠ {message}")

    def toggle_playback(self) -> None:
        self.shown.toggle_playback(self.playback, self.action_table.playback_bar)

    # -- export, reliability, evaluation ---------------------------------------------------------

    def show_export_panel(self) -> None:
        if self.export_panel is None:
            self.export_panel = ExportPanel(
                self.survey_for_export, self.review, self, settings=self.settings
            )
            self.export_panel.message.connect(self.status_label.setText)
        self.export_panel.show()
        self.export_panel.raise_()
        self.export_panel.activateWindow()

    def survey_for_export(self) -> Survey | None:
        """The open survey as the export sees it: every analysis shown, the thresholds and
        combine method set here, every decision and recording mark."""
        return self.session.survey_for_export(self.thresholds.settings())

    def _export_inputs_changed(self, *_: object) -> None:
        if self.export_panel is not None:
            self.export_panel.schedule_refresh()
        self.reliability_panel.schedule_refresh()

    def show_reliability(self) -> None:
        self.reliability_dock.show()
        self.reliability_dock.raise_()

    def evaluate_annotations(self, paths: list[Path] | None = None) -> None:
        """Review → Evaluate against annotations… (the files asked for when not given)."""
        dialog = open_evaluation(
            self, self.session, self.thresholds.settings(), paths=paths,
            start_folder=self.settings.last_folder or Path.home(), say=self.status_label.setText,
        )  # fmt: skip
        if dialog is not None:
            self._dialog = dialog

    # -- the rest of the window ------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self._shut_down_helpers()
        super().closeEvent(event)

    def _shut_down_helpers(self) -> None:
        """Save the view, close the review store, stop every thread and helper process; once."""
        if self._helpers_shut_down:
            return
        self._helpers_shut_down = True
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.review_keys)
        self.playback.shutdown()
        if self.export_panel is not None:
            self.export_panel.guano_writer.shutdown()
        self.view_state.save_on_close()
        self.session.close()  # closes the store (every decision is already committed)
        self.model_sets.shutdown()
        self.analysis_runs.shutdown()
        self.spectrogram_loader.shutdown()
        self.calls.shutdown()
        self.report_exporter.shutdown()
        self.survey_figures.shutdown()
