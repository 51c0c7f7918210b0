"""The strip above the views while nothing is open: how to start, including the demo recording.

When the demo is open it says, for as long as it is open, that the demo's calls are synthesised:
a new user must never take its tracks for a real identification.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from bsgbat_gui.core.resources import DEMO_NOTICE

WELCOME_TEXT = (
    "<b>No recordings open.</b> Open a folder of bat recordings (WAV or FLAC, any rate up to "
    "500 kHz, time-expanded too) or a few files — or try the demo recording first."
)


class WelcomePanel(QFrame):
    open_folder_requested = Signal()
    open_files_requested = Signal()
    open_demo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome_panel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel(WELCOME_TEXT, self)
        self.label.setWordWrap(True)
        self.folder_button = QPushButton("Open folder…", self)
        self.files_button = QPushButton("Open files…", self)
        self.demo_button = QPushButton("Open demo (synthesised calls)", self)
        self.demo_button.setToolTip(
            "A 3 s recording of synthesised bat-like calls that ships with the app: "
            "not a real recording"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.label, 1)
        for button in (self.folder_button, self.files_button, self.demo_button):
            layout.addWidget(button)
        self.folder_button.clicked.connect(self.open_folder_requested)
        self.files_button.clicked.connect(self.open_files_requested)
        self.demo_button.clicked.connect(self.open_demo_requested)

    def show_welcome(self) -> None:
        self.label.setText(WELCOME_TEXT)
        for button in (self.folder_button, self.files_button, self.demo_button):
            button.show()
        self.show()

    def show_demo_notice(self, *, classifier: bool) -> None:
        """Say what the demo shows: with the models, tracks of made-up calls (how the app works,
        not a species); without them, only its spectrogram — and what the models would add."""
        if classifier:
            what = (
                "Its probability tracks are what the BSG-BAT models make of made-up calls: "
                "they show how the app works, not a species."
            )
        else:
            what = (
                "You see its spectrogram only: no species tracks, because the bat classifier "
                "(the BSG-BAT models) is not installed. <i>Download models</i> above adds them "
                "(about 500 MB, once)."
            )
        self.label.setText(f"<b>{DEMO_NOTICE}.</b> {what}")
        self.demo_button.hide()
        self.show()

    def text(self) -> str:
        return self.label.text()
