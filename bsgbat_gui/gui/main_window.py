"""The main window: composition only. Builds the panels and actions and wires their signals; the
computing happens in ``core`` (called from the worker threads of ``gui/worker.py``)."""

from __future__ import annotations

import contextlib
import html
import json
import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSize, Qt, QUrl
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import QSignalDebouncer, QSignalThrottler, qdebounced

from bsgbat_gui import __version__
from bsgbat_gui.core.analysis.detections import StackedAnalyses, SurveyDetections
from bsgbat_gui.core.analysis.thresholds import PresetError, parse_preset, preset_json
from bsgbat_gui.core.app_log import log_folder
from bsgbat_gui.core.audio.recording import (
    LOSSLESS_EXTENSIONS,
    display_path,
    find_recordings,
    name_problem,
)
from bsgbat_gui.core.checklist import SURVEY_SPECIES_META, european_checklist, outside_survey
from bsgbat_gui.core.evaluation.annotations import AnnotationError, read_annotations
from bsgbat_gui.core.files import canonical_path
from bsgbat_gui.core.models.locate import (
    ModelSetError,
    locate_model_set,
    read_model_set,
    user_models_dir,
)
from bsgbat_gui.core.resources import DEMO_NOTICE, copy_demo_to, is_demo_recording, user_demo_dir
from bsgbat_gui.core.review.connection import StoreError
from bsgbat_gui.core.review.decisions import STATUS_CONFIRMED, STATUS_REJECTED, RecordingReview
from bsgbat_gui.core.review.locations import default_store_path, survey_folder, writable_store_path
from bsgbat_gui.core.review.store import ReviewStore
from bsgbat_gui.core.review.survey import Survey, SurveyRecording
from bsgbat_gui.core.species import species_for_label
from bsgbat_gui.gui.about import show_about
from bsgbat_gui.gui.detections_panel import DetectionsPanel, SelectedEvent
from bsgbat_gui.gui.evaluation_dialog import EvaluationDialog
from bsgbat_gui.gui.event_shading import lanes_for
from bsgbat_gui.gui.export_panel import ExportPanel
from bsgbat_gui.gui.models_banner import ModelsBanner
from bsgbat_gui.gui.playback import PlaybackBar, PlaybackController
from bsgbat_gui.gui.recordings_panel import (
    STATUS_ANALYSING,
    STATUS_DONE,
    STATUS_FAILED,
    STATUS_NOT_ANALYSED,
    STATUS_QUEUED,
    RecordingRow,
    RecordingsModel,
    RecordingsPanel,
)
from bsgbat_gui.gui.reliability_panel import ReliabilityPanel
from bsgbat_gui.gui.review import ReviewController
from bsgbat_gui.gui.review_actions import ReviewActions
from bsgbat_gui.gui.review_keys import ReviewKeyFilter
from bsgbat_gui.gui.settings import AppSettings
from bsgbat_gui.gui.spectrogram_view import COLOUR_MAPS, SpectrogramView
from bsgbat_gui.gui.survey_species_dialog import SurveySpeciesDialog
from bsgbat_gui.gui.theme import THEME_SYSTEM, THEMES, ThemeFollower
from bsgbat_gui.gui.threshold_model import ThresholdModel
from bsgbat_gui.gui.threshold_panel import ThresholdPanel
from bsgbat_gui.gui.track_view import TrackView
from bsgbat_gui.gui.welcome import WelcomePanel
from bsgbat_gui.gui.worker import AnalysisController, ModelDownloader, SpectrogramLoader

if TYPE_CHECKING:
    from bsgbat_gui.core.analysis.analyse import (
        RecordingAnalysed,
        RecordingAnalysis,
        RecordingFailed,
        RecordingStarted,
        SegmentsAnalysed,
    )
    from bsgbat_gui.core.compute.jobs import LoadedDetail, LoadedSpectrogram

ANALYSIS_START_DELAY_MS = 400  # at most, after opening: see MainWindow._start_analysis
# Analyses arriving faster than this are shown in the survey-wide views (detections table,
# species column) together: each refresh costs O(recordings) on the GUI thread.
SURVEY_REFRESH_MIN_INTERVAL_MS = 250

log = logging.getLogger(__name__)


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
        self.models_dir = models_dir or self._remembered_models_folder()
        self.current_path: Path | None = None

        self.recordings = RecordingsModel(self)
        self.recordings_panel = RecordingsPanel(self.recordings, self)
        self.spectrogram_view = SpectrogramView(self)
        # One model of thresholds/visibility/combine that every view reads (see threshold_model).
        self.thresholds = ThresholdModel(parent=self)
        self.track_view = TrackView(self.thresholds)
        self.spectrogram_view.add_track_plot(self.track_view)
        self.survey = StackedAnalyses()  # every analysed recording, for the detection events
        self.detections: SurveyDetections | None = None
        self.threshold_panel = ThresholdPanel(self.thresholds, self)
        self.detections_panel = DetectionsPanel(self)
        self._pending_span: tuple[float, float] | None = None  # zoom once the spectrogram loads
        self.review = ReviewController(self)
        self.export_panel: ExportPanel | None = None  # made when first shown (Ctrl+E)
        self.playback = PlaybackController(self)
        self.review.reviewer = self.settings.reviewer
        self.review_actions = ReviewActions(
            self.review, self.detections_panel, self.settings,
            labels=lambda: self.survey.labels or self.thresholds.labels,
            current_path=lambda: self.current_path,
            recording_order=self.recordings_panel.shown_paths,
            recording_states=lambda: {r.path: r.review_state for r in self.recordings.rows},
            show_recording=self.show_recording,
            say=lambda text: self.status_label.setText(text), parent=self,
        )  # fmt: skip
        self._pending_selection: SelectedEvent | None = None  # restored once its events exist
        self._not_opened: list[str] = []  # files of the opened paths that could not be opened
        self.models_usable = False  # a model set was found (set by _check_models)
        # Thresholds and the selection are saved (settings, review store) once a drag or a run of
        # key presses has settled, not on every step of it; closing saves them at once.
        self._save_view_soon = qdebounced(self._save_view_state, timeout=500, parent=self)
        # Analyses arrive in bursts (one inference batch spans several short files, and every
        # queued result is delivered in one event-loop pass): they are only collected as they
        # come; the shown recording's tracks are drawn in a pass of their own, and the
        # survey-wide work (events, tables, shading, export preview) runs once per burst, after
        # the pass, and at most every SURVEY_REFRESH_MIN_INTERVAL_MS, so no single pass grows
        # with the size of the burst and a fast analysis of thousands of short files does not
        # spend the GUI thread re-deriving the whole survey after every file: a 0 ms debounce
        # (after the pass) feeding a throttle (its leading edge at once, then at most one per
        # interval). Signal objects, since wrapping one qthrottled callable in another does
        # not work (functools.wraps copies the inner one's state onto the outer one).
        self._survey_throttle = QSignalThrottler(parent=self)  # leading edge by default
        self._survey_throttle.setTimeout(SURVEY_REFRESH_MIN_INTERVAL_MS)
        self._survey_throttle.triggered.connect(self._refresh_after_analyses)
        self._survey_after_pass = QSignalDebouncer(parent=self)
        self._survey_after_pass.setTimeout(0)
        self._survey_after_pass.triggered.connect(self._survey_throttle.throttle)
        self._show_current_tracks_soon = qdebounced(
            self._show_current_tracks, timeout=0, parent=self
        )
        self._analysis_waiting: list[Path] | None = None  # see _start_analysis
        self._start_waiting_analysis_soon = qdebounced(
            self._start_waiting_analysis, timeout=ANALYSIS_START_DELAY_MS, parent=self
        )
        self._dialog: QWidget | None = None  # the open shortcuts / evaluation window
        self.analysis = AnalysisController(self, models_dir=self.models_dir)
        self.spectrogram_loader = SpectrogramLoader(self)

        self._build_banner()
        self._build_layout()
        self._build_docks()
        self._build_toolbar()
        self._build_review_actions()
        self._build_menus()
        self._build_status_bar()
        self._connect()
        self._restore_settings()
        self._check_models()
        if paths:
            self.open_paths(paths)
        # Keys start in the recordings list; the review keys reach the review from any panel
        # but a text field being typed in (review_keys), and Escape comes back here.
        self.recordings_panel.table.setFocus()
        self.review_keys = ReviewKeyFilter(self, self.recordings_panel.table)
        app.installEventFilter(self.review_keys)

    # -- construction ------------------------------------------------------------------------

    def _build_banner(self) -> None:
        self.banner = ModelsBanner(self)
        self.welcome = WelcomePanel(self)
        self.model_downloader = ModelDownloader(self)
        self.download_dialog: QProgressDialog | None = None

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
        layout.addWidget(self.banner)
        layout.addWidget(self.welcome)
        layout.addWidget(self.main_splitter, 1)
        self.setCentralWidget(central)

    def _build_docks(self) -> None:
        self.threshold_dock = QDockWidget("Thresholds", self)
        self.threshold_dock.setObjectName("thresholds_dock")
        self.threshold_dock.setWidget(self.threshold_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.threshold_dock)
        self.detections_dock = QDockWidget("Detections", self)
        self.detections_dock.setObjectName("detections_dock")
        self.detections_dock.setWidget(self.detections_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.detections_dock)
        self.reliability_panel = ReliabilityPanel(
            self.survey_for_export,
            self.thresholds,
            self.review.undo_stack,
            self.survey.event_count,
            self,
        )
        self.reliability_dock = QDockWidget("Reliability", self)
        self.reliability_dock.setObjectName("reliability_dock")
        self.reliability_dock.setWidget(self.reliability_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.reliability_dock)
        self.tabifyDockWidget(self.detections_dock, self.reliability_dock)
        self.detections_dock.raise_()  # the detections tab in front
        # The thresholds run the full height; the detections sit under the recordings and views.
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.threshold_dock], [370], Qt.Orientation.Horizontal)
        self.resizeDocks([self.detections_dock], [190], Qt.Orientation.Vertical)

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({action.shortcut().toString()})" if shortcut else tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_toolbar(self) -> None:
        self.open_files_action = self._action(
            "Open files…", self.choose_files, QKeySequence.StandardKey.Open, "Open recordings"
        )
        self.open_folder_action = self._action(
            "Open folder…", self.choose_folder, "Ctrl+Shift+O", "Open a folder (recursive)"
        )
        self.open_demo_action = self._action(
            "Open demo recording", self.open_demo, None,
            "Open the demo: 3 s of synthesised bat-like calls (not a real recording)",
        )  # fmt: skip
        self.full_screen_action = self._action(
            "Full screen", self.toggle_full_screen, QKeySequence.StandardKey.FullScreen,
            "Use the whole screen (again to leave)",
        )  # fmt: skip
        self.full_screen_action.setCheckable(True)
        self._layout_before_review: tuple[QByteArray, QByteArray] | None = None
        self.review_layout_action = self._action(
            "Review layout", self.toggle_review_layout, "F9",
            "Give the spectrogram and tracks most of the window (again for the standard layout)",
        )  # fmt: skip
        self.review_layout_action.setCheckable(True)
        self.next_recording_action = self._action(
            "Next recording", lambda: self.step_recording(1), "PgDown", "Select the next recording"
        )
        self.prev_recording_action = self._action(
            "Previous recording", lambda: self.step_recording(-1), "PgUp", "Previous recording"
        )
        self.zoom_in_action = self._action(
            "Zoom in", lambda: self.spectrogram_view.zoom(0.5), "Ctrl+=", "Zoom in"
        )
        self.zoom_out_action = self._action(
            "Zoom out", lambda: self.spectrogram_view.zoom(2.0), "Ctrl+-", "Zoom out"
        )
        self.zoom_fit_action = self._action(
            "Whole recording", self.spectrogram_view.zoom_fit, "Ctrl+0", "Show all"
        )
        self.pan_left_action = self._action(
            "Pan left", lambda: self.spectrogram_view.pan(-0.5), "Shift+Left"
        )
        self.pan_right_action = self._action(
            "Pan right", lambda: self.spectrogram_view.pan(0.5), "Shift+Right"
        )

        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.addAction(self.open_files_action)
        toolbar.addAction(self.open_folder_action)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Colours ", self))
        self.colour_map_box = QComboBox(self)
        self.colour_map_box.addItems(COLOUR_MAPS)
        toolbar.addWidget(self.colour_map_box)
        self.auto_levels_button = QPushButton("Auto levels", self)
        self.auto_levels_button.setToolTip("Reset brightness/contrast (ignores digital-zero gaps)")
        toolbar.addWidget(self.auto_levels_button)
        self.model_input_box = QCheckBox("Model input", self)
        self.model_input_box.setToolTip(
            "Show the normalised 0..6 input the network sees instead of the dB spectrogram"
        )
        toolbar.addWidget(self.model_input_box)
        toolbar.addSeparator()
        self.play_action = self._action(
            "Play / stop", self.toggle_playback, "Space",
            "Play the selected detection, else the visible time range (Space)",
        )  # fmt: skip
        self.playback_bar = PlaybackBar(self.play_action, self)
        toolbar.addWidget(self.playback_bar)
        self.addToolBar(toolbar)

    def _build_review_actions(self) -> None:
        self.export_action = self._action(
            "Export…", self.show_export_panel, "Ctrl+E",
            "Write verified detections (CSV, Raven, Audacity, Kaleidoscope, BriteKit), import "
            "decisions, summary",
        )  # fmt: skip
        self.next_detection_action = self._action(
            "Next detection", lambda: self.review_actions.step(1), "Right",
            "The next detection of the shown recording (after its last: the next recording's)",
        )  # fmt: skip
        self.prev_detection_action = self._action(
            "Previous detection", lambda: self.review_actions.step(-1), "Left",
            "The previous detection of the shown recording (before its first: the previous "
            "recording's)",
        )  # fmt: skip
        self.next_to_review_action = self._action(
            "Next recording to review", self.review_actions.next_recording_to_review, "U",
            "The next recording with undecided detections that is not marked reviewed",
        )  # fmt: skip
        self.confirm_action = self._action(
            "Confirm", lambda: self.review_actions.decide(STATUS_CONFIRMED), "A",
            "Confirm the selected detection, then go to the next unreviewed one",
        )  # fmt: skip
        self.reject_action = self._action(
            "Reject", lambda: self.review_actions.decide(STATUS_REJECTED), "R",
            "Reject the selected detection, then go to the next unreviewed one",
        )  # fmt: skip
        self.relabel_action = self._action(
            "Relabel…",
            self.review_actions.relabel,
            "L",
            "Give the selected detection another species",
        )
        self.note_action = self._action(
            "Note…",
            self.review_actions.edit_note,
            "N",
            "Add a note to the selected detection's decision",
        )
        self.undo_action = self.review.undo_stack.createUndoAction(self, "Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.review.undo_stack.createRedoAction(self, "Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.addAction(self.undo_action)
        self.addAction(self.redo_action)
        self.mark_reviewed_action = self._action(
            "Mark recording reviewed", self.review_actions.toggle_recording_reviewed, "Ctrl+R",
            "Mark the shown recording as reviewed (or not)",
        )  # fmt: skip
        self.no_bats_action = self._action(
            "No bats in this recording", self.review_actions.toggle_no_bats, "Ctrl+B",
            "Mark the shown recording as holding no bat calls (or not)",
        )  # fmt: skip
        self.manual_species_action = self._action(
            "Species in this recording…", self.review_actions.edit_manual_species, "Ctrl+Shift+L",
            "Your own list of the species in the shown recording",
        )  # fmt: skip
        self.reviewer_action = self._action("Reviewer name…", self.review_actions.edit_reviewer)
        self.survey_species_action = self._action(
            "Survey species list…", self.edit_survey_species, None,
            "The species that occur in the survey area: the model's others are marked, or left "
            "out of detection",
        )  # fmt: skip
        self.evaluate_action = self._action(
            "Evaluate against annotations…", lambda: self.evaluate_annotations(), None,
            "Per-species PR-AUC, ROC-AUC, precision and recall against BriteKit or Raven "
            "annotations of the open recordings",
        )  # fmt: skip
        self.reliability_action = self._action(
            "Reliability and threshold advice", self.show_reliability, "Ctrl+Shift+R",
            "Precision of each species' detections from your decisions; suggested thresholds",
        )  # fmt: skip

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_files_action)
        file_menu.addAction(self.open_folder_action)
        self.recent_menu = file_menu.addMenu("Open recent")
        file_menu.addAction(self.open_demo_action)
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(
            self._action("Quit", self.close, QKeySequence.StandardKey.Quit, "Quit bsgbat-gui")
        )
        models_menu = self.menuBar().addMenu("&Models")
        models_menu.addAction(self._action("Download models…", self.download_models))
        models_menu.addAction(self._action("Choose model folder…", self.choose_models_folder))
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.threshold_dock.toggleViewAction())
        view_menu.addAction(self.detections_dock.toggleViewAction())
        view_menu.addAction(self.reliability_dock.toggleViewAction())
        view_menu.addSeparator()
        for action in (
            self.next_recording_action,
            self.prev_recording_action,
            self.zoom_in_action,
            self.zoom_out_action,
            self.zoom_fit_action,
            self.pan_left_action,
            self.pan_right_action,
        ):
            view_menu.addAction(action)
        view_menu.addSeparator()
        theme_menu = view_menu.addMenu("Theme")
        self.theme_actions = QActionGroup(self)
        for theme in THEMES:
            name = "Follow the system" if theme == THEME_SYSTEM else theme.capitalize()
            action = theme_menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(theme == self.theme.theme)
            action.setData(theme)
            self.theme_actions.addAction(action)
        self.theme_actions.triggered.connect(self._theme_chosen)
        view_menu.addAction(self.review_layout_action)
        view_menu.addAction(self.full_screen_action)
        review_menu = self.menuBar().addMenu("&Review")
        for review_action in (
            self.next_detection_action,
            self.prev_detection_action,
            self.next_to_review_action,
            None,
            self.confirm_action,
            self.reject_action,
            self.relabel_action,
            self.note_action,
            None,
            self.undo_action,
            self.redo_action,
            None,
            self.mark_reviewed_action,
            self.no_bats_action,
            self.manual_species_action,
            self.survey_species_action,
            None,
            self.reliability_action,
            self.evaluate_action,
            self.reviewer_action,
        ):
            if review_action is None:
                review_menu.addSeparator()
            else:
                review_menu.addAction(review_action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(
            self._action(
                "Keyboard shortcuts", self.show_shortcuts, QKeySequence.StandardKey.HelpContents
            )
        )
        help_menu.addAction(self.open_demo_action)
        help_menu.addAction(
            self._action(
                "Open log folder", self.open_log_folder, None,
                "Where bsgbat-gui writes its log (errors, warnings): attach it to a bug report",
            )
        )  # fmt: skip
        help_menu.addSeparator()
        help_menu.addAction(self._action("About bsgbat-gui", lambda: show_about(self)))
        self._refresh_recent_menu()

    def _build_status_bar(self) -> None:
        self.status_label = QLabel("", self)
        # What the decision keys act on, and where the shown recording's review stands:
        # always in sight, so a key never acts on something the reviewer does not see.
        self.target_label = QLabel("", self)
        self.target_label.setObjectName("review_target")
        self.target_label.setToolTip("What A (confirm), R (reject), L (relabel), N (note) act on")
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
        bar.addPermanentWidget(self.store_label)
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.cancel_button)

    def _connect(self) -> None:
        self.recordings_panel.recording_selected.connect(self.select_recording)
        self.colour_map_box.currentTextChanged.connect(self._colour_map_changed)
        self.auto_levels_button.clicked.connect(self.spectrogram_view.auto_levels)
        self.model_input_box.toggled.connect(self.spectrogram_view.set_show_model_input)
        self.thresholds.thresholds_changed.connect(self._refresh_detections)
        self.thresholds.visibility_changed.connect(self._visibility_changed)
        self.thresholds.combine_changed.connect(self._combine_changed)
        self.threshold_panel.focus_changed.connect(self.track_view.set_focus)
        self.threshold_panel.per_model_mode_changed.connect(self._per_model_mode_changed)
        self.threshold_panel.top_n_changed.connect(self._top_n_changed)
        self.threshold_panel.message.connect(self.status_label.setText)
        self.thresholds.survey_species_changed.connect(self._survey_species_changed)
        self.detections_panel.event_selected.connect(self.show_event)
        self.review.decisions_changed.connect(self._decisions_changed)
        self.review.decisions_changed.connect(self._export_inputs_changed)
        self.thresholds.thresholds_changed.connect(self._export_inputs_changed)
        self.thresholds.combine_changed.connect(self._export_inputs_changed)
        self.review.problem.connect(self._review_problem)
        self.thresholds.thresholds_changed.connect(self._save_view_soon)
        self.thresholds.combine_changed.connect(self._save_view_soon)
        self.cancel_button.clicked.connect(self.cancel_analysis)
        self.playback.cursor_moved.connect(self.spectrogram_view.set_cursor)
        self.playback.message.connect(self.status_label.setText)
        self.reliability_panel.message.connect(self.status_label.setText)
        self.playback.playing_changed.connect(
            lambda playing: self.play_action.setText("Stop" if playing else "Play / stop")
        )
        self.spectrogram_loader.loaded.connect(self._spectrogram_loaded)
        self.spectrogram_loader.failed.connect(self._spectrogram_failed)
        self.spectrogram_loader.detail_loaded.connect(self._detail_loaded)
        self.spectrogram_view.detail_wanted.connect(self._detail_wanted)
        self.analysis.started.connect(self._analysis_started)
        self.analysis.progress.connect(self._analysis_progress)
        self.analysis.analysed.connect(self._analysis_done)
        self.analysis.failed.connect(self._analysis_failed)
        self.analysis.model_set_failed.connect(self._model_set_failed)
        self.analysis.finished.connect(self._analysis_finished)
        self.banner.download_requested.connect(self.download_models)
        self.welcome.open_folder_requested.connect(self.choose_folder)
        self.welcome.open_files_requested.connect(self.choose_files)
        self.welcome.open_demo_requested.connect(self.open_demo)
        self.banner.choose_requested.connect(self.choose_models_folder)
        self.model_downloader.progress.connect(self._download_progress)
        self.model_downloader.finished.connect(self._download_finished)

    def _restore_settings(self) -> None:
        geometry = self.settings.geometry("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.fit_to_screen()
        splitter = self.settings.geometry("main_splitter")
        if splitter is not None:
            self.main_splitter.restoreState(splitter)
        state = self.settings.geometry("window_state")
        if state is not None:
            self.restoreState(state)
        self.colour_map_box.setCurrentText(self.settings.colour_map)
        self.spectrogram_view.set_colour_map(self.settings.colour_map)
        remembered = self.settings.threshold_settings(self.thresholds.labels)
        if remembered is not None:
            self.thresholds.apply(remembered)
        for label in self.settings.hidden_labels:
            self.thresholds.set_visible(label, False)
        for label in self.settings.shown_labels:
            self.thresholds.set_visible(label, True)

    def fit_to_screen(self, size: QSize | None = None) -> None:
        """A first start's size: the screen's free area (at most 1600 × 1000), the spectrogram
        taking what the panels leave; ``size`` for a given one (tests, screenshots)."""
        if size is None:
            screen = self.screen().availableGeometry()
            size = QSize(min(1600, screen.width()), min(1000, screen.height()))
        self.resize(size)
        width, height = size.width(), size.height()
        thresholds = 300 if width < 1500 else 360
        recordings = max(240, int(0.21 * width))
        self.main_splitter.setSizes([recordings, max(400, width - thresholds - recordings)])
        self.resizeDocks([self.threshold_dock], [thresholds], Qt.Orientation.Horizontal)
        self.resizeDocks([self.detections_dock], [int(0.25 * height)], Qt.Orientation.Vertical)

    def toggle_review_layout(self, on: bool) -> None:
        """View → Review layout (F9): the spectrogram and tracks take most of the window — the
        recordings list folded away, the thresholds hidden, a short detections table — and
        back. Every panel comes back as it was."""
        if on:
            self._layout_before_review = (self.saveState(), self.main_splitter.saveState())
            self.threshold_dock.hide()
            self.main_splitter.setSizes([0, self.main_splitter.width()])
            self.resizeDocks(
                [self.detections_dock], [max(120, int(0.2 * self.height()))],
                Qt.Orientation.Vertical,
            )  # fmt: skip
            self.status_label.setText(
                "Review layout: F9 for the standard layout; PgUp/PgDown, U change recordings"
            )
        elif self._layout_before_review is not None:
            state, splitter = self._layout_before_review
            self.restoreState(state)
            self.main_splitter.restoreState(splitter)
            self._layout_before_review = None

    def _check_models(self) -> bool:
        """Whether a model set is usable; the banner says what is missing or incomplete."""
        try:
            model_set = locate_model_set(self.models_dir)
        except ModelSetError as exc:
            self.models_usable = False
            self._show_models_missing(str(exc))
            return False
        self.models_usable = True
        self.model_status = f"{len(model_set.model_paths)} model(s) from {model_set.folder}"
        self.status_label.setText(f"Model set: {self.model_status}")
        if model_set.incomplete:  # usable, but not the release's numbers: said, not hidden
            self.banner.show_problem(
                f"<b>Incomplete model set:</b> {html.escape(model_set.incomplete)}"
            )
        return True

    def _show_models_missing(self, reason: str) -> None:
        self.banner.show_problem(
            "<b>The bat classifier is not installed yet.</b> You can open recordings and look at "
            "their spectrograms now; to have the bat species found, download the BSG-BAT models "
            "once (about 500 MB, free) or choose a folder that already holds them.",
            details=reason,
        )

    def _remembered_models_folder(self) -> Path | None:
        folder = self.settings.models_folder
        if folder is None:
            return None
        try:
            read_model_set(folder)
        except ModelSetError:
            return None  # moved or deleted since: look in the usual places instead
        return folder

    def download_models(self) -> None:
        """Download, verify and install the model set in the user data folder, off the GUI."""
        if self.model_downloader.is_running:
            return
        dest = user_models_dir()
        dialog = QProgressDialog("Connecting…", "Cancel", 0, 100, self)
        dialog.setWindowTitle("Downloading the BSG-BAT models")
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.model_downloader.cancel)
        dialog.show()
        self.download_dialog = dialog
        self.banner.set_busy(True)
        self.model_downloader.start(dest, self.settings.models_base_url)

    def _download_progress(self, done: int, total: int, what: str) -> None:
        if self.download_dialog is None:
            return
        if total > 0:
            self.download_dialog.setRange(0, 1000)
            self.download_dialog.setValue(int(1000 * done / total))
            what = f"{what}: {done / 1e6:.1f} of {total / 1e6:.1f} MB"
        self.download_dialog.setLabelText(what)

    def _download_finished(self, outcome: int, message: str) -> None:
        if self.download_dialog is not None:
            self.download_dialog.close()
            self.download_dialog = None
        self.banner.set_busy(False)
        if outcome == 0:
            self._use_models(user_models_dir())
        else:
            self.banner.show_problem(f"<b>Model download:</b> {html.escape(message)}")
        self.status_label.setText(message)

    def choose_models_folder(self) -> None:
        start = str(self.models_dir or Path.home())
        chosen = QFileDialog.getExistingDirectory(self, "Choose the BSG-BAT model folder", start)
        if not chosen:
            return
        try:
            read_model_set(Path(chosen))
        except ModelSetError as exc:
            self.banner.show_problem(f"<b>Not a model folder:</b> {html.escape(str(exc))}")
            return
        self._use_models(Path(chosen))

    def _use_models(self, folder: Path) -> None:
        """Remember ``folder`` as the model set and analyse what is waiting."""
        self.settings.models_folder = folder
        self.models_dir = folder
        self.banner.hide()
        usable = self._check_models()
        waiting = [r.path for r in self.recordings.rows if r.status != STATUS_DONE]
        if waiting and usable:
            self._start_analysis(waiting)

    # -- opening recordings --------------------------------------------------------------------

    def choose_files(self) -> None:
        start = str(self.settings.last_folder or Path.home())
        patterns = " ".join(f"*{ext} *{ext.upper()}" for ext in LOSSLESS_EXTENSIONS)
        files, _ = QFileDialog.getOpenFileNames(
            self, "Open recordings", start, f"Recordings ({patterns});;All files (*)"
        )
        if files:
            self.open_paths([Path(f) for f in files])

    def choose_folder(self) -> None:
        start = str(self.settings.last_folder or Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of recordings", start)
        if folder:
            self.open_paths([Path(folder)])

    def open_paths(self, paths: list[Path]) -> None:
        found, problems = find_recordings(paths)
        # Made canonical once here, so every path the window holds compares equal to the review
        # store's (decisions are matched to events on every threshold change). A link loop
        # stays as it is and fails, with its reason, like any unreadable file.
        recordings = []
        for path in found:
            problem = name_problem(path)
            if problem is None:
                recordings.append(canonical_path(path))
            else:
                problems.append(f"{display_path(path)}: {problem}")
        folders = [p for p in paths if p.is_dir()]
        if folders:
            self.settings.last_folder = folders[0]
        elif paths:
            self.settings.last_folder = paths[0].parent
        for problem in problems:
            log.warning("not opened: %s", problem)
        if not recordings:
            self.status_label.setText(
                "No recordings (.wav, .flac) found" + (f": {problems[0]}" if problems else "")
            )
            return
        demo = any(is_demo_recording(p) for p in recordings)
        for path in reversed(paths):  # the first one opened ends up first in the list
            if path.exists() and not (demo and path.is_file()):
                self.settings.add_recent(canonical_path(path))
        self._refresh_recent_menu()
        if demo:
            self.welcome.show_demo_notice(classifier=self.models_usable)
        else:
            self.welcome.hide()
        self.recordings.set_paths(recordings, STATUS_QUEUED)
        self.survey.clear()
        self._open_store(paths)
        self._refresh_detections()
        self._start_analysis(recordings)
        self.recordings_panel.select_row(0)
        self._not_opened = problems
        if problems:
            self.status_label.setText("N" + self._not_opened_text().removeprefix("; n"))

    def _open_store(self, paths: list[Path]) -> None:
        """Open the survey's review store (decisions, cached analyses, thresholds, selection):
        in the opened folder, or the user data folder when that one is read-only."""
        self._save_view_soon.cancel()
        self._save_view_state()  # into the store being left
        path = writable_store_path(paths)
        survey_root = survey_folder(paths)
        try:
            store = ReviewStore.open(
                path, survey_root=None if path.parent == survey_root else survey_root
            )
        except StoreError as exc:
            # Said where it stays in sight, for as long as it holds: nothing decided is saved.
            self.review.set_store(None, problem=str(exc))
            self.store_label.setText("⚠ No review store: decisions are not saved")
            self.store_label.setToolTip(str(exc))
            self.store_label.setStyleSheet("color: #c0392b; font-weight: bold;")
            self._review_problem(f"Decisions cannot be saved: {exc}")
            return
        self.store_label.setToolTip("")
        self.store_label.setStyleSheet("")
        self.review.set_store(store)
        where = f"Review store: {store.path}"
        if store.path != default_store_path(paths):
            where += " (the folder is read-only)"
        if store.read_only:
            where += " — READ-ONLY: another bsgbat-gui window is using it"
            self._review_problem(
                f"{store.path} is in use by another bsgbat-gui window: opened read-only."
            )
        self.store_label.setText(where)
        text = store.get_meta("thresholds")
        if text:
            with contextlib.suppress(PresetError):  # unreadable: keep the current thresholds
                self.thresholds.apply(parse_preset(text, self.thresholds.labels).settings)
        self._pending_selection = _selection_from_json(store.get_meta("selection"), store)
        self.thresholds.set_survey_species(_species_from_json(store.get_meta(SURVEY_SPECIES_META)))

    def _start_analysis(self, recordings: list[Path]) -> None:
        for path in recordings:
            self.recordings.update_row(path, status=STATUS_QUEUED)
        self.progress_bar.setRange(0, len(recordings))
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.cancel_button.show()
        # The shown recording's spectrogram first, then the analysis: both read and transform
        # the same file, and on a two-core laptop running them together can double the time to
        # the first picture. The analysis starts once the picture is in, or after a moment.
        self.analysis.cancel()
        self._analysis_waiting = recordings
        self._start_waiting_analysis_soon()

    def _start_waiting_analysis(self) -> None:
        self._start_waiting_analysis_soon.cancel()
        recordings, self._analysis_waiting = self._analysis_waiting, None
        if recordings is None:
            return
        store = self.review.store
        self.analysis.start(
            recordings,
            models_dir=self.models_dir,
            store_path=store.path if store is not None and not store.read_only else None,
        )
        if self.current_path is not None:
            self.analysis.prioritise(self.current_path)
        if not self.analysis.is_ready and self.models_usable:
            # Said, so a wait has a reason: the helper loads the six models once per start.
            self.status_label.setText(
                "Loading the BSG-BAT models for the analysis (once per start)… spectrograms "
                "and results already analysed are shown meanwhile" + self._not_opened_text()
            )

    @property
    def analysis_busy(self) -> bool:
        """An analysis run is going on or about to start."""
        return self._analysis_waiting is not None or self.analysis.is_running

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent
        for path in recent:
            exists = path.exists()
            action = self.recent_menu.addAction(str(path) + ("" if exists else "  (missing)"))
            action.setEnabled(exists)  # on an unplugged card or a renamed folder
            action.triggered.connect(lambda _checked=False, p=path: self.open_paths([p]))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)
        self.recent_menu.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        self.settings.clear_recent()
        self._refresh_recent_menu()

    def open_demo(self) -> None:
        """Open the demo recording (synthesised calls), copied to the user data folder first so
        that its review store never lands in the installation."""
        try:
            demo = copy_demo_to(user_demo_dir())
        except OSError as exc:
            self.status_label.setText(f"The demo recording cannot be opened: {exc}")
            return
        self.open_paths([demo])
        self.status_label.setText(DEMO_NOTICE)

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.full_screen_action.setChecked(self.isFullScreen())

    def _theme_chosen(self, action: QAction) -> None:
        theme = str(action.data())
        self.theme.set_theme(theme)
        self.settings.theme = theme

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_paths(paths)
            event.acceptProposedAction()

    # -- selection and views -------------------------------------------------------------------

    def show_recording(self, path: Path) -> None:
        """Show ``path`` (selecting its row; directly when the filters hide it)."""
        self.recordings_panel.select_path(path)
        if self.current_path != path:
            self.select_recording(path)

    def select_recording(self, path: Path) -> None:
        if path != self.current_path:
            self._pending_span = None
        self.current_path = path
        selected = self.detections_panel.selected
        if selected is not None and selected.path != path:
            # A detection belongs to its recording: not outlined, highlighted or acted on
            # while another one is shown.
            self.detections_panel.clear_selection()
            self.spectrogram_view.event_shading.set_selected(None)
        row = self.recordings.row_for(path)
        self.spectrogram_view.show_message(f"Loading {path.name}…")
        self.spectrogram_loader.request(path)
        self.analysis.prioritise(path)
        self.track_view.set_analysis(row.analysis if row else None)
        self.detections_panel.set_current_recording(path)
        self._shade_events()
        self._show_target()

    def show_event(self, event: SelectedEvent) -> None:
        """Show a detection: its recording, zoomed to it, outlined on the spectrogram."""
        span = (event.start_s, event.end_s)
        self._save_view_soon()  # the selection is restored on reopening
        if event.path != self.current_path:
            self.show_recording(event.path)
            self.spectrogram_view.event_shading.set_selected(span)
            self._pending_span = span  # applied when its spectrogram has loaded
            self._show_target()
            return
        self.spectrogram_view.event_shading.set_selected(span)
        self.spectrogram_view.show_span(*span)
        self._show_target()

    def edit_survey_species(self) -> None:
        """Review → Survey species list…: pick, load or save the survey area's species."""
        dialog = SurveySpeciesDialog(
            european_checklist(), self.survey.labels or self.thresholds.labels,
            self.thresholds.survey_species, bool(self.thresholds.excluded), self,
        )  # fmt: skip
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.chosen.connect(self.set_survey_species)
        self._dialog = dialog
        dialog.open()

    def set_survey_species(self, species: tuple[str, ...] | None, exclude: bool) -> None:
        """Keep the list (in the review store) and leave the model's species outside it out
        of detection when asked; one step, saved with the thresholds."""
        labels = self.survey.labels or self.thresholds.labels
        self.thresholds.set_survey_species(species)
        outside = outside_survey(labels, species) if species is not None else set()
        self.thresholds.set_excluded(outside if exclude else set())
        if self.review.can_write:
            assert self.review.store is not None
            try:
                self.review.store.set_meta(
                    SURVEY_SPECIES_META, json.dumps(list(species) if species is not None else None)
                )
            except (sqlite3.Error, OSError) as exc:
                self._review_problem(f"The survey species list was not saved: {exc}")
        self._save_view_state()
        if species is None:
            self.status_label.setText("No survey species list: every model species is possible")
        else:
            codes = ", ".join(sorted(european_checklist().code_for(x) for x in outside)) or "none"
            verb = "left out of detection" if exclude else "marked ⚠"
            self.status_label.setText(
                f"Survey species list: {len(species)} species; model species outside it ({verb}): "
                f"{codes}"
            )

    def _survey_species_changed(self) -> None:
        species = self.thresholds.survey_species
        labels = self.survey.labels or self.thresholds.labels
        outside = outside_survey(labels, species) if species is not None else set()
        self.detections_panel.model.set_outside_survey(outside - set(self.thresholds.excluded))

    def _show_target(self) -> None:
        """Say in the status bar what the decision keys act on, and the shown recording's
        review state; draw the target's species track, highlighted."""
        target = self.review_actions.target()
        self.track_view.set_selected_label(target.label if target is not None else None)
        path = self.current_path
        if path is None:
            self.target_label.setText("")
            return
        row = self.recordings.row_for(path)
        state = (
            f"{row.review_state} ({row.events_reviewed} of {row.events_total} decided)"
            if row is not None and row.events_total
            else row.review_state
            if row is not None
            else ""
        )
        name = _short_name(path.name)
        if row is not None and not row.events_total:
            self.target_label.setText(f"{name}: no detections")
            return
        if target is None:
            keys = "no detection selected (Right: the first)"
        else:
            code = species_for_label(target.label).code
            keys = f"A/R/L act on {code} {target.start_s:.2f}–{target.end_s:.2f} s"
        self.target_label.setText(f"{name}: {state} · {keys}")

    def step_recording(self, step: int) -> None:
        table = self.recordings_panel.table
        row = table.currentIndex().row() if table.currentIndex().isValid() else -1
        self.recordings_panel.select_row(max(0, row + step))

    def _spectrogram_loaded(self, loaded: LoadedSpectrogram) -> None:
        if loaded.path != self.current_path:
            return
        span = self._pending_span
        self._pending_span = None
        self.spectrogram_view.set_spectrogram(
            loaded.spectrogram,
            loaded.model_input,
            loaded.levels,
            view_range_s=self.spectrogram_view.span_with_margin(*span) if span else None,
        )
        self.model_input_box.setEnabled(loaded.model_input is not None)
        row = self.recordings.row_for(loaded.path)
        if row is not None and row.info is None:
            self.recordings.update_row(loaded.path, info=loaded.info)
        warnings = "; ".join(loaded.info.warnings)
        self.status_label.setText(f"{loaded.path.name}" + (f" — {warnings}" if warnings else ""))
        self._start_waiting_analysis()

    def _spectrogram_failed(self, path: Path, reason: str) -> None:
        if path == self.current_path:
            self.spectrogram_view.show_message(f"{path.name}: {reason}")
            self._start_waiting_analysis()

    def _detail_wanted(self, first_frame: int, stop_frame: int) -> None:
        if self.current_path is not None:
            self.spectrogram_loader.request_detail(self.current_path, first_frame, stop_frame)

    def _detail_loaded(self, detail: LoadedDetail) -> None:
        if detail.path == self.current_path:
            self.spectrogram_view.set_detail(detail.spectrogram)

    def _colour_map_changed(self, name: str) -> None:
        self.spectrogram_view.set_colour_map(name)
        self.settings.colour_map = name

    # -- thresholds and detections --------------------------------------------------------------

    def _refresh_detections(self) -> None:
        """Find every analysed recording's events at the current thresholds and show them: the
        detections table, the shading of the shown recording, the recordings' species column."""
        labels = self.survey.labels
        detections = self.survey.detections(self.thresholds.thresholds_array(labels))
        self.detections = detections
        self.detections_panel.set_detections(detections, labels)
        self.recordings.set_species(detections.species_by_recording(labels))
        self._shade_events()
        self._update_review_progress()
        self._restore_selection()
        self._show_target()

    def _shade_events(self) -> None:
        """Shade the shown recording's events of the visible species, one lane per species."""
        shading = self.spectrogram_view.event_shading
        if self.detections is None or self.current_path is None:
            shading.set_events([])
            return
        events = self.detections.of_recording(self.current_path)
        shading.set_events(lanes_for(events, self.survey.labels, self.thresholds.is_visible))

    # -- review --------------------------------------------------------------------------------

    def _decisions_changed(self) -> None:
        self.detections_panel.set_decisions(self.review.decisions)
        self._update_review_progress()
        self._show_target()

    def _update_review_progress(self) -> None:
        model = self.detections_panel.model
        total, done = model.reviewed_counts()
        paths = self.detections.paths if self.detections is not None else ()
        counts = {p: (int(done[i]), int(total[i])) for i, p in enumerate(paths)}
        marks = {}
        if self.review.store is not None:
            for row in self.recordings.rows:
                review = self.review.recording_review(row.path)
                marks[row.path] = (review.reviewed, review.no_bats)
        self.recordings.set_review_progress(counts, marks)

    def _review_problem(self, message: str) -> None:
        self.status_label.setText(f"⚠ {message}")

    def _restore_selection(self) -> None:
        wanted = self._pending_selection
        if wanted is None or self.detections is None or wanted.path not in self.detections.paths:
            return
        row = self.detections_panel.model.row_of(wanted)
        if row is not None:
            self._pending_selection = None
            self.detections_panel.select_row(row)

    def _save_view_state(self) -> None:
        """Thresholds to the settings and, with the selection, to the review store."""
        settings, labels = self.thresholds.settings(), self.thresholds.labels
        self.settings.set_threshold_settings(settings, labels)
        if not self.review.can_write:
            return
        assert self.review.store is not None
        try:
            self.review.store.set_meta("thresholds", preset_json(settings, labels))
            selected = self.detections_panel.selected
            if selected is not None:
                self.review.store.set_meta(
                    "selection", _selection_to_json(selected, self.review.store)
                )
        except (sqlite3.Error, OSError, StoreError) as exc:  # keep working; say why once
            self._review_problem(f"Thresholds and selection not saved to the review store: {exc}")

    def open_log_folder(self) -> None:
        """Help → Open log folder: the folder in the desktop's file manager."""
        folder = log_folder()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.status_label.setText(f"The log folder {folder} cannot be made: {exc}")
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.status_label.setText(f"Log folder: {folder} (no file manager to open it)")

    def show_shortcuts(self) -> None:
        """Every action with a shortcut, in a window that does not block."""
        from PySide6.QtWidgets import QMessageBox

        lines = [
            f"<tr><td><b>{html.escape(a.shortcut().toString())}</b></td>"
            f"<td>{html.escape(a.text().replace('&', ''))}</td></tr>"
            for a in self.actions()
            if not a.shortcut().isEmpty()
        ]
        lines.append("<tr><td><b>Esc</b></td><td>The keyboard back to the review</td></tr>")
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText("<table cellspacing=6>" + "".join(lines) + "</table>")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialog = box
        box.open()

    def _visibility_changed(self, _label: str) -> None:
        self.detections_panel.set_visible_labels(self.thresholds.visible_labels())
        self._shade_events()
        self.settings.set_label_visibility(
            hidden=[x for x in self.thresholds.labels if not self.thresholds.is_visible(x)],
            shown=[x for x in self.thresholds.labels if self.thresholds.is_visible(x)],
        )

    def _combine_changed(self, method: str) -> None:
        self.survey.set_combine(self.thresholds.combine)
        self._refresh_detections()

    def _per_model_mode_changed(self, mode: str) -> None:
        self.track_view.set_focus(self.track_view.focus_label, mode)

    def _top_n_changed(self, n: int) -> None:
        self.track_view.top_n = n
        self.track_view.redraw()

    # -- background analysis -------------------------------------------------------------------

    def _is_current_run(self, run_id: int) -> bool:
        return run_id == self.analysis.run_id

    def _analysis_started(self, run_id: int, event: RecordingStarted) -> None:
        if self._is_current_run(run_id):
            self.recordings.update_row(
                event.path, status=STATUS_ANALYSING, info=event.info, progress=0.0
            )

    def _analysis_progress(self, run_id: int, event: SegmentsAnalysed) -> None:
        if self._is_current_run(run_id):
            self.recordings.update_row(event.path, progress=event.done / event.total)

    def _analysis_done(self, run_id: int, event: RecordingAnalysed) -> None:
        if not self._is_current_run(run_id):
            return
        self.progress_bar.setValue(self.progress_bar.value() + 1)
        self.add_analysis(event.analysis, from_cache=event.from_cache)

    def add_analysis(self, analysis: RecordingAnalysis, *, from_cache: bool = False) -> None:
        """Take a recording's analysis: its row now; its tracks and detection events (with
        every other analysis of the same burst) once the current event-loop pass is over."""
        path = analysis.info.path
        self.recordings.update_row(
            path, status=STATUS_DONE, analysis=analysis, from_cache=from_cache
        )
        self.thresholds.set_labels(analysis.labels)
        self.detections_panel.set_labels(analysis.labels)
        self.survey.set_combine(self.thresholds.combine)
        self.survey.add(analysis)
        if path == self.current_path:  # its tracks do not wait for the survey's refresh
            self._show_current_tracks_soon()
        self._survey_after_pass.throttle()

    def _refresh_after_analyses(self) -> None:
        self._refresh_detections()
        self._export_inputs_changed()

    def _show_current_tracks(self) -> None:
        row = self._current_row()
        if row is not None:
            self.track_view.set_analysis(row.analysis)

    def _current_row(self) -> RecordingRow | None:
        path = self.current_path
        return self.recordings.row_for(path) if path is not None else None

    def _analysis_failed(self, run_id: int, event: RecordingFailed) -> None:
        if self._is_current_run(run_id):
            self.recordings.update_row(event.path, status=STATUS_FAILED, reason=event.reason)
            self.progress_bar.setValue(self.progress_bar.value() + 1)

    def _model_set_failed(self, run_id: int, message: str) -> None:
        if self._is_current_run(run_id):
            self.models_usable = False
            self._show_models_missing(message)
            self._mark_unanalysed()

    def _analysis_finished(self, run_id: int, cancelled: int) -> None:
        if not self._is_current_run(run_id):
            return
        self.progress_bar.hide()
        self.cancel_button.hide()
        self._mark_unanalysed()
        done = sum(r.status == STATUS_DONE for r in self.recordings.rows)
        failed = sum(r.status == STATUS_FAILED for r in self.recordings.rows)
        state = "cancelled" if cancelled else "finished"
        if not self.models_usable and not done:
            self.status_label.setText(
                "Spectrograms only: no species analysis, the bat classifier is not installed"
                + self._not_opened_text()
            )
            return
        self.status_label.setText(
            f"Analysis {state}: {done} analysed, {failed} failed" + self._not_opened_text()
        )

    def _not_opened_text(self) -> str:
        """The files of the opened folder that could not be opened at all (said as long as the
        folder is open: they are in no row)."""
        problems = self._not_opened
        if not problems:
            return ""
        more = f" (and {len(problems) - 1} more: see the log)" if len(problems) > 1 else ""
        return f"; not opened: {problems[0]}{more}"

    def _mark_unanalysed(self) -> None:
        reason = "" if self.models_usable else "no classifier installed"
        for row in self.recordings.rows:
            if row.status in (STATUS_QUEUED, STATUS_ANALYSING):
                self.recordings.update_row(row.path, status=STATUS_NOT_ANALYSED, reason=reason)

    def cancel_analysis(self) -> None:
        self._analysis_waiting = None
        self._start_waiting_analysis_soon.cancel()
        self.analysis.cancel()
        self.progress_bar.hide()
        self.cancel_button.hide()
        self._mark_unanalysed()
        self.status_label.setText("Analysis cancelled")

    # -- closing ----------------------------------------------------------------------------------

    # -- playback ------------------------------------------------------------------------------

    def toggle_playback(self) -> None:
        """Play the selected detection when it is in the shown recording, else the visible time
        range; stop if playing."""
        if self.playback.busy:
            self.playback.stop()
            self.status_label.setText("Playback stopped")
            return
        path = self.current_path
        row = self._current_row()
        selected = self.detections_panel.selected
        if selected is not None and selected.path == path:
            start_s, end_s = selected.start_s, selected.end_s
        else:
            start_s, end_s = self.spectrogram_view.visible_range()
        info = row.info if row is not None else None
        self.playback.play(info, start_s, end_s, self.playback_bar.settings())

    # -- export --------------------------------------------------------------------------------

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
        """The open survey as the export sees it: every analysis shown, the thresholds and combine
        method set here, every decision and recording mark."""
        analyses = self.survey.analyses()
        if not analyses:
            return None
        store = self.review.store
        try:
            model_sets = store.analysis_model_sets() if store is not None else {}
        except (sqlite3.Error, OSError):  # unreadable store: the export says model_set unknown
            model_sets = {}
        reviews = self.review.recording_reviews
        recordings = [
            SurveyRecording(
                a, model_sets.get(a.info.path, ""), reviews.get(a.info.path, RecordingReview())
            )
            for a in analyses
        ]
        return Survey.of(recordings, self.thresholds.settings(), self.review.decisions)

    def _export_inputs_changed(self, *_: object) -> None:
        if self.export_panel is not None:
            self.export_panel.schedule_refresh()
        self.reliability_panel.schedule_refresh()

    def show_reliability(self) -> None:
        self.reliability_dock.show()
        self.reliability_dock.raise_()

    def evaluate_annotations(self, paths: list[Path] | None = None) -> None:
        """Compare the open recordings' analyses with annotation files (asked for if not given)
        in a dialog that does not block the window."""
        analyses = self.survey.analyses()
        if not analyses:
            self.status_label.setText("Open and analyse the annotated recordings first")
            return
        if paths is None:
            start = str(self.settings.last_folder or Path.home())
            names, _ = QFileDialog.getOpenFileNames(
                self, "Annotation files (BriteKit CSV, Raven tables)", start,
                "Annotations (*.csv *.txt);;All files (*)",
            )  # fmt: skip
            paths = [Path(n) for n in names]
        if not paths:
            return
        try:
            annotations = read_annotations(paths, self.survey.labels)
        except AnnotationError as exc:
            self.status_label.setText(f"Annotations not usable: {exc}")
            return
        dialog = EvaluationDialog(analyses, annotations, self.thresholds.settings(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialog = dialog
        dialog.open()

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
        self.settings.set_geometry("geometry", self.saveGeometry())
        self.settings.set_geometry("main_splitter", self.main_splitter.saveState())
        self.settings.set_geometry("window_state", self.saveState())
        self.settings.sync()
        self._save_view_soon.cancel()
        self._save_view_state()
        self.review.set_store(None)  # closes it (every decision is already committed)
        self.model_downloader.shutdown()
        self._analysis_waiting = None
        self._start_waiting_analysis_soon.cancel()
        self.analysis.shutdown()
        self.spectrogram_loader.shutdown()


def _species_from_json(text: str | None) -> tuple[str, ...] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return tuple(str(x) for x in value) if isinstance(value, list) else None


def _short_name(name: str, limit: int = 28) -> str:
    """A file name cut in the middle to fit the status bar (``Car3702…234204_701.wav``)."""
    return name if len(name) <= limit else f"{name[: limit // 2 - 1]}…{name[-(limit // 2) :]}"


def _selection_to_json(event: SelectedEvent, store: ReviewStore) -> str:
    """The selection as the store keeps it (its path relative to the survey, like the rest)."""
    return json.dumps(
        {"path": store.key(event.path), "label": event.label, "start_s": event.start_s,
         "end_s": event.end_s}
    )  # fmt: skip


def _selection_from_json(text: str | None, store: ReviewStore) -> SelectedEvent | None:
    if not text:
        return None
    try:
        d = json.loads(text)
        return SelectedEvent(
            store.path_of(str(d["path"])), str(d["label"]), float(d["start_s"]),
            float(d["end_s"]),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError):
        return None
