"""Review → Call measurement settings…: the band and thresholds calls are found with, kept with
the survey (the review store), the same settings ``bsgbat-gui calls --project`` uses.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from bsgbat_gui.core.calls.settings import CallSettings, CallSettingsError

if TYPE_CHECKING:
    from collections.abc import Callable

# (setting, label, unit, lowest, highest, step, decimals): the settings a reviewer changes; the
# others (window, hop, noise block) are the spectrogram's and stay as the README explains.
EDITABLE: tuple[tuple[str, str, str, float, float, float, int], ...] = (
    ("fmin_khz", "Band from", " kHz", 0.0, 250.0, 1.0, 1),
    ("fmax_khz", "Band to", " kHz", 1.0, 250.0, 1.0, 1),
    ("threshold_db", "A call starts", " dB above the noise", 1.0, 60.0, 1.0, 1),
    ("extend_db", "and takes in cells", " dB above the noise", 1.0, 60.0, 1.0, 1),
    ("min_duration_ms", "Shortest call", " ms", 0.0, 50.0, 0.1, 2),
    ("edge_db", "Fmax and Fmin at", " dB below the peak", 1.0, 60.0, 1.0, 1),
)


class CallSettingsDialog(QDialog):
    """Edits a :class:`CallSettings`; ``apply`` gets the new settings on OK."""

    def __init__(
        self,
        settings: CallSettings,
        apply: Callable[[CallSettings], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Call measurement settings")
        self._settings = settings
        self._apply = apply
        form = QFormLayout()
        self.boxes: dict[str, QDoubleSpinBox] = {}
        for name, label, unit, lowest, highest, step, decimals in EDITABLE:
            box = QDoubleSpinBox(self)
            box.setRange(lowest, highest)
            box.setSingleStep(step)
            box.setDecimals(decimals)
            box.setSuffix(unit)
            box.setValue(float(getattr(settings, name)))
            box.valueChanged.connect(self._check)
            form.addRow(label, box)
            self.boxes[name] = box
        self.problem = QLabel("", self)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #d04040")
        note = QLabel(
            "Kept with the survey. Recordings are measured again with new settings when shown "
            "(or with <code>bsgbat-gui calls --project</code>).",
            self,
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults,
            self,
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self.restore_defaults
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self._check()

    def chosen(self) -> CallSettings:
        """The settings as the boxes say. Raises :class:`CallSettingsError` when they cannot
        be used together (e.g. the band's top below its bottom)."""
        return replace(self._settings, **{name: box.value() for name, box in self.boxes.items()})

    def restore_defaults(self) -> None:
        """Every box back to the default setting."""
        defaults = CallSettings()
        for name, box in self.boxes.items():
            box.setValue(float(getattr(defaults, name)))

    def _check(self) -> None:
        try:
            self.chosen()
        except CallSettingsError as exc:
            self.problem.setText(str(exc))
            self.ok_button.setEnabled(False)
            return
        self.problem.setText("")
        self.ok_button.setEnabled(True)

    def accept(self) -> None:
        try:
            settings = self.chosen()
        except CallSettingsError:
            return  # OK is disabled then; a key press cannot get here with bad settings
        super().accept()
        self._apply(settings)
