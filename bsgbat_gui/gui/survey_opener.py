"""Opening a survey: folders or files chosen, dropped, recent or the demo; their recordings
listed, their review store opened (or why not, in sight for as long as it holds), the analysis
started — what the store holds is shown without running a model.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from bsgbat_gui.core.audio.recording import LOSSLESS_EXTENSIONS
from bsgbat_gui.core.files import canonical_path
from bsgbat_gui.core.resources import DEMO_NOTICE, copy_demo_to, is_demo_recording, user_demo_dir
from bsgbat_gui.core.session.survey_session import SurveySession

if TYPE_CHECKING:
    from bsgbat_gui.gui.main_window import MainWindow


class SurveyOpener(QObject):
    """Opens surveys into the window's session (``window``: the composition root)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def choose_files(self) -> None:
        """File → Open files…"""
        w = self.window
        start = str(w.settings.last_folder or Path.home())
        patterns = " ".join(f"*{ext} *{ext.upper()}" for ext in LOSSLESS_EXTENSIONS)
        files, _ = QFileDialog.getOpenFileNames(
            w, "Open recordings", start, f"Recordings ({patterns});;All files (*)"
        )
        if files:
            self.open_paths([Path(f) for f in files])

    def choose_folder(self) -> None:
        """File → Open folder… (searched recursively)."""
        w = self.window
        start = str(w.settings.last_folder or Path.home())
        folder = QFileDialog.getExistingDirectory(w, "Open a folder of recordings", start)
        if folder:
            self.open_paths([Path(folder)])

    def open_demo(self) -> None:
        """Open the demo recording (synthesised calls), copied to the user data folder first so
        that its review store never lands in the installation."""
        try:
            demo = copy_demo_to(user_demo_dir())
        except OSError as exc:
            self.window.status_label.setText(f"The demo recording cannot be opened: {exc}")
            return
        self.open_paths([demo])
        self.window.status_label.setText(DEMO_NOTICE)

    def open_paths(self, paths: list[Path]) -> None:
        """Open folders or files: their recordings listed, their review store opened, the
        analysis started."""
        w = self.window
        opened = SurveySession.find(paths)
        folders = [p for p in paths if p.is_dir()]
        if paths:
            w.settings.last_folder = folders[0] if folders else paths[0].parent
        if not opened.recordings:
            problems = opened.problems
            w.status_label.setText(
                "No recordings (.wav, .flac) found" + (f": {problems[0]}" if problems else "")
            )
            return
        demo = any(is_demo_recording(p) for p in opened.recordings)
        for path in reversed(paths):  # the first one opened ends up first in the list
            if path.exists() and not (demo and path.is_file()):
                w.settings.add_recent(canonical_path(path))
        w.action_table.refresh_recent_menu()
        if demo:
            w.welcome.show_demo_notice(classifier=w.model_sets.usable)
        else:
            w.welcome.hide()
        w.view_state.save()  # into the store being left
        w.session.open(opened)
        self._open_store(paths)
        w.refresh_detections()
        w.analysis_runs.start(list(opened.recordings))
        w.recordings_panel.select_row(0)
        if opened.problems:
            w.status_label.setText("N" + w.session.not_opened_text().removeprefix("; n"))

    def _open_store(self, paths: list[Path]) -> None:
        """The survey's review store (decisions, cached analyses, thresholds, selection): in
        the opened folder, or the user data folder when that one is read-only."""
        w, session = self.window, self.window.session
        session.open_store(paths)
        label = w.store_label
        label.setText(session.store_text())
        if session.store is None:
            # Said where it stays in sight, for as long as it holds: nothing decided is saved.
            label.setToolTip(session.store_problem)
            label.setStyleSheet("color: #c0392b; font-weight: bold;")
            w.review_problem(f"Decisions cannot be saved: {session.store_problem}")
            return
        label.setToolTip("")
        label.setStyleSheet("")
        if session.store.read_only:
            w.review_problem(
                f"{session.store.path} is in use by another bsgbat-gui window: opened read-only."
            )
        w.view_state.apply_stored()

    def analyse_waiting(self) -> None:
        """A model set is there now: analyse what is not analysed yet."""
        waiting = self.window.session.unanalysed()
        if waiting:
            self.window.analysis_runs.start(waiting)
