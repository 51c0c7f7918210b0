"""The main window.

For now a starting point: it lists what was opened and where the models are, and points to the
headless ``analyze`` command. The spectrogram, tracks and background analysis arrive with the
main-window issue.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListWidget, QMainWindow, QVBoxLayout, QWidget

from bsgbat_gui import __version__
from bsgbat_gui.core.audio import find_recordings
from bsgbat_gui.core.models import ModelSetError, locate_model_set


class MainWindow(QMainWindow):
    def __init__(self, *, paths: list[Path], models_dir: Path | None = None) -> None:
        super().__init__()
        self.setWindowTitle(f"bsgbat-gui {__version__}")
        self.resize(1100, 700)
        central = QWidget(self)
        layout = QVBoxLayout(central)

        try:
            model_set = locate_model_set(models_dir)
            models_text = (
                f"Model set: {len(model_set.model_paths)} model(s) in {model_set.folder} "
                f"({model_set.origin})"
            )
        except ModelSetError as exc:
            models_text = f"No model set: {exc}"
        self.models_label = QLabel(models_text, central)
        self.models_label.setWordWrap(True)
        self.models_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        notice = QLabel(
            "The review window (spectrogram, species tracks, background analysis) is not built "
            "yet. Analyse recordings from a terminal with:\n"
            "    bsgbat-gui analyze FOLDER --segments segments.csv",
            central,
        )
        notice.setWordWrap(True)

        recordings, _missing = find_recordings(paths)
        self.recordings_list = QListWidget(central)
        self.recordings_list.addItems([str(p) for p in recordings])

        layout.addWidget(self.models_label)
        layout.addWidget(notice)
        layout.addWidget(QLabel(f"Recordings opened: {len(recordings)}", central))
        layout.addWidget(self.recordings_list, 1)
        self.setCentralWidget(central)
