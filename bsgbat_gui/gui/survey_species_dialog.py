"""Review → Survey species list…: which species occur in the survey area.

Picked from the European checklist (searchable by code, scientific or English name), or loaded
from / saved to a plain list file (one species per line). The model's species missing from the
list are marked in the threshold panel and the detections table — never silently hidden — and
one box leaves them out of detection altogether. :class:`SurveySpeciesController` keeps the list
in the review store.
Non-blocking: the dialog is opened, and answers with :attr:`chosen`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bsgbat_gui.core.checklist import (
    KIND_GROUP,
    KIND_SPECIES,
    Checklist,
    european_checklist,
    outside_survey,
    parse_species_list,
    species_list_text,
)
from bsgbat_gui.core.files import AtomicTextFile
from bsgbat_gui.core.session.survey_session import STORE_WRITE_ERRORS

if TYPE_CHECKING:
    from bsgbat_gui.gui.main_window import MainWindow


class SurveySpeciesDialog(QDialog):
    """Signals
    -------
    chosen(object, bool)
        The list (a tuple of labels; None to have no list) and whether the model's species
        outside it are excluded from detection.
    """

    chosen = Signal(object, bool)

    def __init__(
        self,
        checklist: Checklist,
        model_labels: tuple[str, ...],
        current: tuple[str, ...] | None,
        excluding: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Survey species list")
        self.checklist = checklist
        self.model_labels = model_labels
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("search: code, scientific or English name")
        self.list = QListWidget(self)
        for taxon in checklist.taxa:
            if taxon.kind not in (KIND_SPECIES, KIND_GROUP):
                continue
            model = " · model species" if taxon.name in model_labels else ""
            item = QListWidgetItem(
                f"{taxon.code}  {taxon.name} ({taxon.english_name}){model}", self.list
            )
            item.setData(Qt.ItemDataRole.UserRole, taxon.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            listed = current is not None and taxon.name in current
            item.setCheckState(Qt.CheckState.Checked if listed else Qt.CheckState.Unchecked)
        self.exclude_box = QCheckBox(
            "Leave the model's species that are not in the list out of detection", self
        )
        self.exclude_box.setChecked(excluding)
        self.summary = QLabel("", self)
        self.summary.setWordWrap(True)
        load = QPushButton("Load list…", self)
        save = QPushButton("Save list…", self)
        clear = QPushButton("No list", self)
        clear.setToolTip("Forget the list: every model species is treated as possible")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        row = QHBoxLayout()
        for button in (load, save, clear):
            row.addWidget(button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Species that occur in the survey area:", self))
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        layout.addWidget(self.exclude_box)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)
        self.filter.textChanged.connect(self._filter)
        self.list.itemChanged.connect(self._update_summary)
        self.exclude_box.toggled.connect(self._update_summary)
        load.clicked.connect(self._choose_load)
        save.clicked.connect(self._choose_save)
        clear.clicked.connect(self._clear)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self._dialog: QFileDialog | None = None
        self._cleared = current is None
        self.resize(560, 600)
        self._update_summary()

    def selected(self) -> tuple[str, ...]:
        return tuple(
            str(self.list.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        )

    def set_selected(self, labels: tuple[str, ...]) -> None:
        wanted = set(labels)
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in wanted
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self._cleared = False
        self._update_summary()

    def _filter(self, text: str) -> None:
        needle = text.strip().casefold()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(needle not in item.text().casefold())

    def _update_summary(self) -> None:
        self._cleared = self._cleared and not self.selected()
        outside = sorted(outside_survey(self.model_labels, self.selected()))
        if self._cleared:
            self.summary.setText("No list: every model species is treated as possible.")
            return
        what = "left out of detection" if self.exclude_box.isChecked() else "marked ⚠"
        names = ", ".join(self.checklist.code_for(x).capitalize() for x in outside) or "none"
        self.summary.setText(
            f"{len(self.selected())} listed. Model species not in the list ({what}): {names}"
        )

    def _clear(self) -> None:
        self.set_selected(())
        self._cleared = True
        self.exclude_box.setChecked(False)
        self._update_summary()

    def _choose_load(self) -> None:
        dialog = QFileDialog(self, "Load a species list")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter("Species lists (*.txt *.csv);;All files (*)")
        dialog.fileSelected.connect(lambda name: self.load(Path(name)))
        self._dialog = dialog
        dialog.open()

    def load(self, path: Path) -> list[str]:
        """Tick the species the file names; returns (and shows) the lines it could not use."""
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            self.summary.setText(f"Not loaded: {path.name}: {exc}")
            return [str(exc)]
        labels, problems = parse_species_list(text, self.checklist)
        self.set_selected(labels)
        if problems:
            more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
            self.summary.setText(
                self.summary.text() + "\nNot recognised: " + "; ".join(problems[:3]) + more
            )
        return problems

    def _choose_save(self) -> None:
        dialog = QFileDialog(self, "Save the species list")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter("Species lists (*.txt)")
        dialog.setDefaultSuffix("txt")
        dialog.selectFile("survey-species.txt")
        dialog.fileSelected.connect(lambda name: self.save(Path(name)))
        self._dialog = dialog
        dialog.open()

    def save(self, path: Path) -> bool:
        try:
            with AtomicTextFile(path) as f:
                f.write(species_list_text(self.selected(), self.checklist))
        except OSError as exc:
            self.summary.setText(f"Not saved: {path}: {exc.strerror or exc}")
            return False
        self.summary.setText(f"Saved to {path}")
        return True

    def _accept(self) -> None:
        species = None if self._cleared else self.selected()
        self.chosen.emit(species, self.exclude_box.isChecked() and species is not None)
        self.accept()


class SurveySpeciesController(QObject):
    """Review → Survey species list…: the dialog, the list kept in the review store, the
    model's species outside it marked (or left out of detection) — one step, saved with the
    thresholds. ``window``: the composition root."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        window.thresholds.survey_species_changed.connect(self._mark_outside)

    def _labels(self) -> tuple[str, ...]:
        return self.window.session.labels or self.window.thresholds.labels

    def edit(self) -> None:
        """Pick, load or save the survey area's species (a dialog that does not block)."""
        w = self.window
        dialog = SurveySpeciesDialog(
            european_checklist(), self._labels(), w.thresholds.survey_species,
            bool(w.thresholds.excluded), w,
        )  # fmt: skip
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.chosen.connect(self.set)
        w._dialog = dialog
        dialog.open()

    def set(self, species: tuple[str, ...] | None, exclude: bool) -> None:
        """Keep the list (in the review store) and leave the model's species outside it out
        of detection when asked."""
        w = self.window
        w.thresholds.set_survey_species(species)
        outside = outside_survey(self._labels(), species) if species is not None else set()
        w.thresholds.set_excluded(outside if exclude else set())
        try:
            w.session.save_survey_species(species)
        except STORE_WRITE_ERRORS as exc:
            w.review_problem(f"The survey species list was not saved: {exc}")
        w.view_state.save()
        if species is None:
            w.status_label.setText("No survey species list: every model species is possible")
            return
        codes = ", ".join(sorted(european_checklist().code_for(x) for x in outside)) or "none"
        verb = "left out of detection" if exclude else "marked ⚠"
        w.status_label.setText(
            f"Survey species list: {len(species)} species; model species outside it ({verb}): "
            f"{codes}"
        )

    def _mark_outside(self) -> None:
        thresholds = self.window.thresholds
        species = thresholds.survey_species
        outside = outside_survey(self._labels(), species) if species is not None else set()
        self.window.detections_panel.model.set_outside_survey(outside - set(thresholds.excluded))
