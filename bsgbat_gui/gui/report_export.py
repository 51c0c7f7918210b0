"""File → Export report…: the survey report (``bsgbat-gui report``'s HTML) of what the window
shows — its thresholds, decisions and the verification sample kept in the review store — built
and written off the GUI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from bsgbat_gui.core.export.formats import common_folder
from bsgbat_gui.gui.worker import ReportWriter

if TYPE_CHECKING:
    from bsgbat_gui.gui.main_window import MainWindow


class ReportExporter(QObject):
    """Asks where, then writes the report in a QThread; says when it is written, or why not."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.writer = ReportWriter(self)
        self.writer.finished.connect(self._written)
        self.out: Path | None = None

    def export(self) -> None:
        """Ask for the file, then write the report of the open survey."""
        w = self.window
        survey = w.survey_for_export()
        if survey is None or not survey.recordings:
            w.status_label.setText("No report yet: no recording of this survey is analysed.")
            return
        if self.writer.is_running:
            w.status_label.setText("A survey report is being written; wait for it to finish.")
            return
        surveyed = common_folder([r.path for r in survey.recordings])
        start = w.settings.export_folder or surveyed
        path, _ = QFileDialog.getSaveFileName(
            w, "Export the survey report", str(start / "survey-report.html"),
            "Web page (*.html)",
        )  # fmt: skip
        if not path:
            return
        self.write(Path(path), survey_title=f"Bat survey: {surveyed.name or surveyed}")

    def write(self, out: Path, *, survey_title: str) -> None:
        """Write the report to ``out`` (the file dialog's answer; replaced if it exists)."""
        w = self.window
        survey = w.survey_for_export()
        if survey is None:
            return
        self.out = out
        w.settings.export_folder = out.parent
        problem = w.session.sample_problem
        w.status_label.setText(
            f"Writing the survey report to {out.name}…" + (f" (⚠ {problem})" if problem else "")
        )
        self.writer.start(survey, w.session.sample, survey_title, out, w.session.site_positions)

    def _written(self, problem: str) -> None:
        if problem:
            self.window.status_label.setText(f"⚠ The survey report was not written: {problem}")
        else:
            self.window.status_label.setText(f"Survey report written: {self.out}")

    def shutdown(self) -> None:
        """Let a report being written finish (it is written whole or not at all)."""
        self.writer.shutdown()
