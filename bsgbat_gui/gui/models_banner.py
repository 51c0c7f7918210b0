"""The banner shown while no model set is usable: what it means for the user, in plain words,
two ways to fix it, and — under "Details" — the technical reason (folders looked in, the
environment variable), for whoever needs it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


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
        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.hide()
        self.details_button = QPushButton("Details", self)
        self.details_button.setCheckable(True)
        self.details_button.setToolTip("Where the app looked for the models, and why it failed")
        self.details_button.toggled.connect(self.details.setVisible)
        self.download_button = QPushButton("Download models (about 500 MB)…", self)
        self.download_button.setToolTip(
            "Download the six BSG-BAT v0.21 checkpoints (CC-BY-4.0, bsg-bat team) from "
            "Hugging Face, verify them and install them in your user data folder"
        )
        self.choose_button = QPushButton("Choose folder…", self)
        self.choose_button.setToolTip("Use a folder that already holds the model files")
        texts = QVBoxLayout()
        texts.addWidget(self.label)
        texts.addWidget(self.details)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(texts, 1)
        layout.addWidget(self.download_button)
        layout.addWidget(self.choose_button)
        layout.addWidget(self.details_button)
        self.download_button.clicked.connect(self.download_requested)
        self.choose_button.clicked.connect(self.choose_requested)
        self.hide()

    def show_problem(self, html: str, details: str = "") -> None:
        """``html`` says it in the user's words; ``details`` (plain text) the technical reason,
        behind the Details button (hidden when there is none)."""
        self.label.setText(html)
        self.details.setText(details)
        self.details_button.setVisible(bool(details))
        self.details_button.setChecked(False)
        self.show()

    def text(self) -> str:
        return self.label.text() + ("\n" + self.details.text() if self.details.text() else "")

    def set_busy(self, busy: bool) -> None:
        self.download_button.setEnabled(not busy)
        self.choose_button.setEnabled(not busy)
