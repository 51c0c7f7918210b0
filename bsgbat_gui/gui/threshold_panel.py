"""The threshold panel: one row per species (names, colour, visibility, slider + spin box), the
combine method, the per-model view, "set all", "reset" and presets.

Every control writes to the :class:`ThresholdModel` and is updated from it; the panel keeps no
copy of any value.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from bsgbat_gui.core.analysis.thresholds import PresetError, load_preset, save_preset
from bsgbat_gui.core.models.ensemble import COMBINE_METHODS
from bsgbat_gui.core.species import species_for_label
from bsgbat_gui.gui.species_style import species_colour
from bsgbat_gui.gui.threshold_model import THRESHOLD_STEP, ThresholdModel
from bsgbat_gui.gui.track_view import DEFAULT_TOP_N, PER_MODEL_MODES

if TYPE_CHECKING:
    from PySide6.QtGui import QMouseEvent

SLIDER_STEPS = round(1 / THRESHOLD_STEP)


class SpeciesRow(QFrame):
    """Visibility, colour, names, threshold slider and spin box for one label."""

    focused = Signal(str)

    def __init__(self, model: ThresholdModel, label: str, label_index: int, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self.label = label
        species = species_for_label(label)
        self.setObjectName(f"row:{label}")
        self.visible_box = QCheckBox(self)
        self.visible_box.setToolTip(f"Show {label} (track, shading, detections)")
        colour = species_colour(label_index).name()
        self.swatch = QLabel(self)
        self.swatch.setFixedSize(12, 26)
        self.swatch.setStyleSheet(f"background: {colour}; border-radius: 2px;")
        self._names_html = (
            f"<i>{html.escape(species.scientific_name)}</i><br>"
            f"<small>{html.escape(species.common_name)} · {html.escape(species.code)}</small>"
        )
        self.name = QLabel(self._names_html, self)
        self.name.setMinimumWidth(100)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setPageStep(SLIDER_STEPS // 20)
        self.slider.setMinimumWidth(40)
        self.slider.setToolTip(f"Threshold for {label}: detected when probability ≥ threshold")
        self.spin = QDoubleSpinBox(self)
        self.spin.setRange(0.0, 1.0)
        self.spin.setDecimals(3)
        self.spin.setSingleStep(0.01)
        self.spin.setToolTip(self.slider.toolTip())
        self.spin.setFixedWidth(68)
        self.spin.setKeyboardTracking(False)  # typing "0.75" is one change, not three
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 1, 2, 1)
        layout.addWidget(self.visible_box)
        layout.addWidget(self.swatch)
        layout.addWidget(self.name, 3)
        layout.addWidget(self.slider, 2)
        layout.addWidget(self.spin)
        self.sync()
        self.visible_box.toggled.connect(lambda on: model.set_visible(label, on))
        self.slider.valueChanged.connect(lambda v: model.set_threshold(label, v / SLIDER_STEPS))
        self.spin.valueChanged.connect(lambda v: model.set_threshold(label, v))
        for widget in (self.slider, self.spin, self.visible_box):
            widget.installEventFilter(self)

    def sync(self) -> None:
        """Show the model's values without echoing them back."""
        value = self.model.threshold(self.label)
        for widget in (self.slider, self.spin, self.visible_box):
            widget.blockSignals(True)
        self.slider.setValue(round(value * SLIDER_STEPS))
        self.spin.setValue(value)
        self.visible_box.setChecked(self.model.is_visible(self.label))
        for widget in (self.slider, self.spin, self.visible_box):
            widget.blockSignals(False)
        excluded = self.model.is_excluded(self.label)
        outside = self.model.outside_survey(self.label)
        self.survey_note = (
            "excluded from detection" if excluded else "not in the survey list" if outside else ""
        )
        tag = (
            f"<br><small><span style='color:#e67e22'>⚠ {self.survey_note}</span></small>"
            if self.survey_note
            else ""
        )
        self.name.setText(self._names_html + tag)
        self.slider.setEnabled(not excluded)
        self.spin.setEnabled(not excluded)

    def set_focused(self, focused: bool) -> None:
        self.setStyleSheet("SpeciesRow { background: rgba(255,255,255,30); }" if focused else "")

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.focused.emit(self.label)
        super().mousePressEvent(event)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == event.Type.FocusIn:
            self.focused.emit(self.label)
        return False


class ThresholdPanel(QWidget):
    """Emits :attr:`focus_changed` with the species whose row was last touched (its track is
    always drawn, and the per-model view shows it)."""

    focus_changed = Signal(str)
    per_model_mode_changed = Signal(str)
    top_n_changed = Signal(int)
    message = Signal(str)  # for the status bar

    def __init__(self, model: ThresholdModel, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self.rows: dict[str, SpeciesRow] = {}
        self.focus_label: str | None = None

        self.combine_box = QComboBox(self)
        self.combine_box.addItems(COMBINE_METHODS)
        self.combine_box.setToolTip(
            "How the six models' logits are combined per segment (no re-analysis)"
        )
        self.per_model_box = QComboBox(self)
        self.per_model_box.addItems(PER_MODEL_MODES)
        self.per_model_box.setToolTip(
            "For the highlighted species: each model's track, or the band between the lowest "
            "and highest, to show where the checkpoints disagree"
        )
        self.top_n_box = QSpinBox(self)
        self.top_n_box.setRange(1, 22)
        self.top_n_box.setValue(DEFAULT_TOP_N)
        self.top_n_box.setToolTip("Draw the N visible species with the highest probability")
        options = QGridLayout()
        options.addWidget(QLabel("Combine", self), 0, 0)
        options.addWidget(self.combine_box, 0, 1)
        options.addWidget(QLabel("Tracks: top", self), 0, 2)
        options.addWidget(self.top_n_box, 0, 3)
        options.addWidget(QLabel("Per model", self), 1, 0)
        options.addWidget(self.per_model_box, 1, 1, 1, 3)

        self.rows_widget = QWidget(self)
        self.rows_layout = QVBoxLayout(self.rows_widget)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.setSpacing(0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.rows_widget)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.set_all_spin = QDoubleSpinBox(self)
        self.set_all_spin.setRange(0.0, 1.0)
        self.set_all_spin.setDecimals(3)
        self.set_all_spin.setSingleStep(0.05)
        self.set_all_spin.setValue(0.5)
        self.set_all_button = QPushButton("Set all", self)
        self.set_all_button.setToolTip("Give every species (not Background) this threshold")
        self.reset_button = QPushButton("Reset to 0.5", self)
        self.reset_button.setToolTip("Every threshold back to the model card's 0.5")
        self.save_button = QPushButton("Save preset…", self)
        self.load_button = QPushButton("Load preset…", self)
        buttons = QGridLayout()
        buttons.addWidget(self.set_all_spin, 0, 0)
        buttons.addWidget(self.set_all_button, 0, 1)
        buttons.addWidget(self.reset_button, 0, 2)
        buttons.addWidget(self.save_button, 1, 0, 1, 2)
        buttons.addWidget(self.load_button, 1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(options)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)

        self._build_rows()
        self.combine_box.setCurrentText(model.combine)
        self.combine_box.currentTextChanged.connect(model.set_combine)
        self.per_model_box.currentTextChanged.connect(self.per_model_mode_changed)
        self.top_n_box.valueChanged.connect(self.top_n_changed)
        self.set_all_button.clicked.connect(lambda: model.set_all(self.set_all_spin.value()))
        self.reset_button.clicked.connect(model.reset)
        self.save_button.clicked.connect(self.save_preset)
        self.load_button.clicked.connect(self.load_preset)
        model.threshold_changed.connect(self._row_changed)
        model.visibility_changed.connect(self._row_changed)
        model.combine_changed.connect(self.combine_box.setCurrentText)
        model.survey_species_changed.connect(self._sync_rows)
        model.labels_changed.connect(self._build_rows)

    def _build_rows(self) -> None:
        for row in self.rows.values():
            row.deleteLater()
        self.rows.clear()
        while self.rows_layout.count():
            self.rows_layout.takeAt(0)
        for i, label in enumerate(self.model.labels):
            row = SpeciesRow(self.model, label, i, self.rows_widget)
            row.focused.connect(self.set_focus)
            self.rows_layout.addWidget(row)
            self.rows[label] = row
        self.rows_layout.addStretch(1)

    def _sync_rows(self) -> None:
        for row in self.rows.values():
            row.sync()

    def _row_changed(self, label: str) -> None:
        row = self.rows.get(label)
        if row is not None:
            row.sync()

    def set_focus(self, label: str) -> None:
        if label == self.focus_label:
            return
        if self.focus_label in self.rows:
            self.rows[self.focus_label].set_focused(False)
        self.focus_label = label
        if label in self.rows:
            self.rows[label].set_focused(True)
        self.focus_changed.emit(label)

    # -- presets --------------------------------------------------------------------------

    def save_preset(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save thresholds preset", "thresholds.json", "Thresholds preset (*.json)"
        )
        if not path:
            return
        try:
            save_preset(Path(path), self.model.settings(), self.model.labels)
        except OSError as exc:
            self._notify("Preset not saved", f"Cannot write {path}: {exc.strerror or exc}")
            return
        self.message.emit(f"Thresholds saved to {path}")

    def _notify(self, title: str, text: str) -> None:
        """A window-modal message that does not block the event loop (open(), not exec())."""
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def load_preset(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load thresholds preset", "", "Thresholds preset (*.json);;All files (*)"
        )
        if path:
            self.apply_preset_file(Path(path))

    def apply_preset_file(self, path: Path) -> list[str]:
        """Apply a preset; returns the problems reported (also shown to the user)."""
        try:
            loaded = load_preset(path, self.model.labels)
        except PresetError as exc:
            self._notify("Preset not loaded", str(exc))
            return [str(exc)]
        self.model.apply(loaded.settings)
        if loaded.problems:
            self._notify(
                "Preset loaded with problems",
                f"{path.name} was applied; these entries were not:\n\n• "
                + "\n• ".join(loaded.problems),
            )
        self.message.emit(f"Thresholds loaded from {path}")
        return list(loaded.problems)
