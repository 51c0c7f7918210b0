"""The window's actions table: every command with its text, shortcut and tip, the toolbar and
the menus that show them. One place answers "what does F9 do?" and "where is Export?".

An action calls a method of the window's parts (the window passes itself as the composition
root); nothing here keeps state but the actions and the menus.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QMessageBox, QPushButton, QToolBar

from bsgbat_gui.core.app_log import log_folder
from bsgbat_gui.core.review.decisions import STATUS_CONFIRMED, STATUS_REJECTED
from bsgbat_gui.gui.about import show_about
from bsgbat_gui.gui.playback import PlaybackBar
from bsgbat_gui.gui.spectrogram_view import COLOUR_MAPS
from bsgbat_gui.gui.theme import THEME_SYSTEM, THEMES

if TYPE_CHECKING:
    from collections.abc import Callable

    from bsgbat_gui.gui.main_window import MainWindow


class WindowActions:
    """Builds the window's actions, toolbar and menus (``window`` must have its parts)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self._build_actions()
        self._build_toolbar()
        self._build_menus()
        self.set_linear_axis(window.settings.linear_frequency_axis)

    def _action(
        self, text: str, slot: Callable[..., object], shortcut: object = None, tip: str = ""
    ) -> QAction:
        action = QAction(text, self.window)
        if isinstance(shortcut, str):
            action.setShortcut(QKeySequence(shortcut))
        elif shortcut is not None:
            assert isinstance(shortcut, QKeySequence.StandardKey)
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({action.shortcut().toString()})" if shortcut else tip)
        action.triggered.connect(slot)
        self.window.addAction(action)
        return action

    def _build_actions(self) -> None:
        w = self.window
        a = self._action
        keys = QKeySequence.StandardKey
        review, shown, view = w.review_actions, w.shown, w.view_state
        # -- files and views
        self.open_files_action = a(
            "Open files…", w.opener.choose_files, keys.Open, "Open recordings"
        )
        self.open_folder_action = a(
            "Open folder…", w.opener.choose_folder, "Ctrl+Shift+O", "Open a folder (recursive)"
        )
        self.open_demo_action = a(
            "Open demo recording", w.opener.open_demo, None,
            "Open the demo: 3 s of synthesised bat-like calls (not a real recording)",
        )  # fmt: skip
        self.full_screen_action = a(
            "Full screen", self.toggle_full_screen, keys.FullScreen,
            "Use the whole screen (again to leave)",
        )  # fmt: skip
        self.full_screen_action.setCheckable(True)
        self.review_layout_action = a(
            "Review layout", view.toggle_review_layout, "F9",
            "Give the spectrogram and tracks most of the window (again for the standard layout)",
        )  # fmt: skip
        self.review_layout_action.setCheckable(True)
        self.next_recording_action = a(
            "Next recording", lambda: shown.step_recording(1), "PgDown",
            "Select the next recording",
        )  # fmt: skip
        self.prev_recording_action = a(
            "Previous recording", lambda: shown.step_recording(-1), "PgUp", "Previous recording"
        )
        spectrogram = w.spectrogram_view
        self.zoom_in_action = a("Zoom in", lambda: spectrogram.zoom(0.5), "Ctrl+=", "Zoom in")
        self.zoom_out_action = a("Zoom out", lambda: spectrogram.zoom(2.0), "Ctrl+-", "Zoom out")
        self.zoom_fit_action = a("Whole recording", spectrogram.zoom_fit, "Ctrl+0", "Show all")
        self.pan_left_action = a("Pan left", lambda: spectrogram.pan(-0.5), "Shift+Left")
        self.pan_right_action = a("Pan right", lambda: spectrogram.pan(0.5), "Shift+Right")
        self.linear_axis_action = a(
            "Linear frequency axis (kHz)", self.set_linear_axis, "F",
            "Frequency axis: the model's mel scale, or linear true kHz for measuring calls",
        )  # fmt: skip
        self.linear_axis_action.setCheckable(True)
        self.play_action = a(
            "Play / stop", w.toggle_playback, "Space",
            "Play the selected detection, else the visible time range (Space)",
        )  # fmt: skip
        # -- review
        self.export_action = a(
            "Export…", w.show_export_panel, "Ctrl+E",
            "Write verified detections (CSV, Raven, Audacity, Kaleidoscope, BriteKit), import "
            "decisions, summary",
        )  # fmt: skip
        self.report_action = a(
            "Export report…", w.report_exporter.export, None,
            "The survey report as one web page: sites, activity through the night relative to "
            "sunset, species with their precision, thresholds, model set, reviewers",
        )  # fmt: skip
        self.figures_action = a(
            "Survey figures…", w.survey_figures.open, "Ctrl+Shift+G",
            "Activity through the night relative to sunset, species × night per site, sites, "
            "emergence — the survey report's figures for the open survey",
        )  # fmt: skip
        self.next_detection_action = a(
            "Next detection", lambda: review.step(1), "Right",
            "The next detection of the shown recording (after its last: the next recording's)",
        )  # fmt: skip
        self.prev_detection_action = a(
            "Previous detection", lambda: review.step(-1), "Left",
            "The previous detection of the shown recording (before its first: the previous "
            "recording's)",
        )  # fmt: skip
        self.next_to_review_action = a(
            "Next recording to review", review.next_recording_to_review, "U",
            "The next recording with undecided detections that is not marked reviewed",
        )  # fmt: skip
        self.confirm_action = a(
            "Confirm", lambda: review.decide(STATUS_CONFIRMED), "A",
            "Confirm the selected detection, then go to the next unreviewed one",
        )  # fmt: skip
        self.reject_action = a(
            "Reject", lambda: review.decide(STATUS_REJECTED), "R",
            "Reject the selected detection, then go to the next unreviewed one",
        )  # fmt: skip
        self.relabel_action = a(
            "Relabel…", review.relabel, "L", "Give the selected detection another species"
        )
        self.note_action = a(
            "Note…", review.edit_note, "N", "Add a note to the selected detection's decision"
        )
        self.undo_action = w.review.undo_stack.createUndoAction(w, "Undo")
        self.undo_action.setShortcut(keys.Undo)
        self.redo_action = w.review.undo_stack.createRedoAction(w, "Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        w.addAction(self.undo_action)
        w.addAction(self.redo_action)
        self.mark_reviewed_action = a(
            "Mark recording reviewed", review.toggle_recording_reviewed, "Ctrl+R",
            "Mark the shown recording as reviewed (or not)",
        )  # fmt: skip
        self.no_bats_action = a(
            "No bats in this recording", review.toggle_no_bats, "Ctrl+B",
            "Mark the shown recording as holding no bat calls (or not)",
        )  # fmt: skip
        self.manual_species_action = a(
            "Species in this recording…", review.edit_manual_species, "Ctrl+Shift+L",
            "Your own list of the species in the shown recording",
        )  # fmt: skip
        self.reviewer_action = a("Reviewer name…", review.edit_reviewer)
        self.survey_species_action = a(
            "Survey species list…", w.survey_species.edit, None,
            "The species that occur in the survey area: the model's others are marked, or left "
            "out of detection",
        )  # fmt: skip
        self.call_settings_action = a(
            "Call measurement settings…", w.calls.edit_settings, None,
            "The band and thresholds calls are found with (kept with the survey)",
        )  # fmt: skip
        self.call_marks_action = a(
            "Call marks", w.spectrogram_view.call_marks.set_shown, "M",
            "Measured calls on the spectrogram: a box from start to end and Fmin to Fmax, a dot "
            "at the FME",
        )  # fmt: skip
        self.call_marks_action.setCheckable(True)
        self.call_marks_action.setChecked(True)
        self.sample_action = a(
            "Review a sample…", w.sample_reviewer.open, None,
            "Draw a random sample of each species' detections per probability band and review "
            "it: the survey report estimates each species' precision for all its detections",
        )  # fmt: skip
        self.evaluate_action = a(
            "Evaluate against annotations…", lambda: w.evaluate_annotations(), None,
            "Per-species PR-AUC, ROC-AUC, precision and recall against BriteKit or Raven "
            "annotations of the open recordings",
        )  # fmt: skip
        self.reliability_action = a(
            "Reliability and threshold advice", w.show_reliability, "Ctrl+Shift+R",
            "Precision of each species' detections from your decisions; suggested thresholds",
        )  # fmt: skip
        # -- models and help
        self.download_models_action = a("Download models…", w.model_sets.download)
        self.choose_models_action = a("Choose model folder…", w.model_sets.choose_folder)
        self.quit_action = a("Quit", w.close, keys.Quit, "Quit bsgbat-gui")
        self.shortcuts_action = a("Keyboard shortcuts", self.show_shortcuts, keys.HelpContents)
        self.log_folder_action = a(
            "Open log folder", self.open_log_folder, None,
            "Where bsgbat-gui writes its log (errors, warnings): attach it to a bug report",
        )  # fmt: skip
        self.about_action = a("About bsgbat-gui", lambda: show_about(w))

    def _build_toolbar(self) -> None:
        w = self.window
        toolbar = QToolBar("Main", w)
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.addAction(self.open_files_action)
        toolbar.addAction(self.open_folder_action)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Colours ", w))
        self.colour_map_box = QComboBox(w)
        self.colour_map_box.addItems(COLOUR_MAPS)
        toolbar.addWidget(self.colour_map_box)
        self.auto_levels_button = QPushButton("Auto levels", w)
        self.auto_levels_button.setToolTip("Reset brightness/contrast (ignores digital-zero gaps)")
        toolbar.addWidget(self.auto_levels_button)
        self.model_input_box = QCheckBox("Model input", w)
        self.model_input_box.setToolTip(
            "Show the normalised 0..6 input the network sees instead of the dB spectrogram"
        )
        toolbar.addWidget(self.model_input_box)
        self.linear_axis_action.setIconText("Linear kHz")  # the menu says it in full
        toolbar.addAction(self.linear_axis_action)
        toolbar.addSeparator()
        self.playback_bar = PlaybackBar(self.play_action, w)
        toolbar.addWidget(self.playback_bar)
        w.addToolBar(toolbar)

    def _build_menus(self) -> None:
        w = self.window
        bar = w.menuBar()
        self.recent_menu = _menu(
            bar.addMenu("&File"),
            self.open_files_action, self.open_folder_action, "Open recent",
            self.open_demo_action, None, self.export_action, self.report_action, None,
            self.quit_action,
        )  # fmt: skip
        _menu(bar.addMenu("&Models"), self.download_models_action, self.choose_models_action)
        view_menu = bar.addMenu("&View")
        _menu(
            view_menu,
            w.threshold_dock.toggleViewAction(), w.detections_dock.toggleViewAction(),
            w.reliability_dock.toggleViewAction(), self.figures_action, None,
            self.next_recording_action, self.prev_recording_action, self.zoom_in_action,
            self.zoom_out_action, self.zoom_fit_action, self.pan_left_action,
            self.pan_right_action, None, self.linear_axis_action, self.call_marks_action,
            w.calls_dock.toggleViewAction(), None,
        )  # fmt: skip
        theme_menu = view_menu.addMenu("Theme")
        self.theme_actions = QActionGroup(w)
        for theme in THEMES:
            name = "Follow the system" if theme == THEME_SYSTEM else theme.capitalize()
            action = theme_menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(theme == w.theme.theme)
            action.setData(theme)
            self.theme_actions.addAction(action)
        self.theme_actions.triggered.connect(self.theme_chosen)
        _menu(view_menu, self.review_layout_action, self.full_screen_action)
        _menu(
            bar.addMenu("&Review"),
            self.next_detection_action, self.prev_detection_action, self.next_to_review_action,
            None, self.confirm_action, self.reject_action, self.relabel_action, self.note_action,
            None, self.undo_action, self.redo_action, None, self.mark_reviewed_action,
            self.no_bats_action, self.manual_species_action, self.survey_species_action, None,
            self.sample_action, self.reliability_action, self.evaluate_action,
            self.call_settings_action,
            self.reviewer_action,
        )  # fmt: skip
        _menu(
            bar.addMenu("&Help"),
            self.shortcuts_action, self.open_demo_action, self.log_folder_action, None,
            self.about_action,
        )  # fmt: skip
        self.refresh_recent_menu()

    def restore_colour_map(self) -> None:
        """The colour map of the last session, in the box and on the spectrogram."""
        name = self.window.settings.colour_map
        self.colour_map_box.setCurrentText(name)
        self.window.spectrogram_view.set_colour_map(name)

    def colour_map_chosen(self, name: str) -> None:
        """The colour box: the spectrogram's colour map (remembered)."""
        self.window.spectrogram_view.set_colour_map(name)
        self.window.settings.colour_map = name

    def toggle_full_screen(self) -> None:
        """F11: full screen, or back."""
        w = self.window
        if w.isFullScreen():
            w.showNormal()
        else:
            w.showFullScreen()
        self.full_screen_action.setChecked(w.isFullScreen())

    def theme_chosen(self, action: QAction) -> None:
        """View → Theme: light, dark or the system's (remembered)."""
        theme = str(action.data())
        self.window.theme.set_theme(theme)
        self.window.settings.theme = theme

    def set_linear_axis(self, linear: bool) -> None:
        """F: the spectrogram on a linear kHz axis, or the mel one (remembered)."""
        self.linear_axis_action.setChecked(linear)
        self.window.spectrogram_view.set_linear_axis(linear)
        self.window.settings.linear_frequency_axis = linear

    def open_log_folder(self) -> None:
        """Help → Open log folder: the folder in the desktop's file manager."""
        folder = log_folder()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.window.status_label.setText(f"The log folder {folder} cannot be made: {exc}")
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.window.status_label.setText(f"Log folder: {folder} (no file manager to open it)")

    def show_shortcuts(self) -> None:
        """Every action with a shortcut, in a window that does not block."""
        lines = [
            f"<tr><td><b>{html.escape(a.shortcut().toString())}</b></td>"
            f"<td>{html.escape(a.text().replace('&', ''))}</td></tr>"
            for a in self.window.actions()
            if not a.shortcut().isEmpty()
        ]
        lines.append("<tr><td><b>Esc</b></td><td>The keyboard back to the review</td></tr>")
        box = QMessageBox(self.window)
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText("<table cellspacing=6>" + "".join(lines) + "</table>")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.window._dialog = box
        box.open()

    def refresh_recent_menu(self) -> None:
        """File → Open recent: the recent folders and files (a missing one greyed out)."""
        menu, settings = self.recent_menu, self.window.settings
        menu.clear()
        recent = settings.recent
        for path in recent:
            exists = path.exists()
            action = menu.addAction(str(path) + ("" if exists else "  (missing)"))
            action.setEnabled(exists)  # on an unplugged card or a renamed folder
            action.triggered.connect(lambda _checked=False, p=path: self.window.open_paths([p]))
        if recent:
            menu.addSeparator()
            menu.addAction("Clear list", self._clear_recent)
        menu.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        self.window.settings.clear_recent()
        self.refresh_recent_menu()


def _menu(menu, *entries):
    """Fill ``menu``: an action, None for a separator, a string for a sub-menu (returned)."""
    submenu = None
    for entry in entries:
        if entry is None:
            menu.addSeparator()
        elif isinstance(entry, str):
            submenu = menu.addMenu(entry)
        else:
            menu.addAction(entry)
    return submenu
