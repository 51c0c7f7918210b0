"""The banner shown while no model set is usable: what is missing, and two ways to fix it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class ModelsBanner(QFrame):
    """Non-blocking: the window stays usable (browsing, spectrograms) while it is shown."""

    download_requested = Signal()
    choose_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("models_banner")
        self.setStyleSheet(
            "#models_banner { background: #5c4a12; border-radius: 3px; }"
            "#models_banner QLabel { color: #fff3cd; }"
        )
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.download_button = QPushButton("Download models (about 500 MB)…", self)
        self.download_button.setToolTip(
            "Download the six BSG-BAT v0.21 checkpoints (CC-BY-4.0, bsg-bat team) from "
            "Hugging Face, verify them and install them in your user data folder"
        )
        self.choose_button = QPushButton("Choose folder…", self)
        self.choose_button.setToolTip("Use a folder that already holds the model files")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.download_button)
        layout.addWidget(self.choose_button)
        self.download_button.clicked.connect(self.download_requested)
        self.choose_button.clicked.connect(self.choose_requested)
        self.hide()

    def show_problem(self, html: str) -> None:
        self.label.setText(html)
        self.show()

    def text(self) -> str:
        return self.label.text()

    def set_busy(self, busy: bool) -> None:
        self.download_button.setEnabled(not busy)
        self.choose_button.setEnabled(not busy)
