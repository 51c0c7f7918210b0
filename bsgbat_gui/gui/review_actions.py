"""What the review keys and menu entries do: decide on the selected detection (and move on),
relabel, notes, the reviewer's name, and the shown recording's own marks.

The window owns the actions (menus, shortcuts) and calls these; the decisions themselves, their
undo and their storage are the :class:`~bsgbat_gui.gui.review.ReviewController`'s. Every text
or species question is a dialog that does not block the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QInputDialog, QWidget

from bsgbat_gui.core.review_store import STATUS_REJECTED, STATUS_RELABELLED
from bsgbat_gui.gui.detections_panel import DetectionsPanel
from bsgbat_gui.gui.review import ReviewController, SpeciesPicker
from bsgbat_gui.gui.settings import AppSettings


class ReviewActions(QObject):
    def __init__(
        self,
        review: ReviewController,
        detections_panel: DetectionsPanel,
        settings: AppSettings,
        *,
        labels: Callable[[], tuple[str, ...]],
        current_path: Callable[[], Path | None],
        say: Callable[[str], None],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.review = review
        self.detections_panel = detections_panel
        self.settings = settings
        self._labels = labels  # the species a detection may be relabelled to
        self._current_path = current_path  # the recording shown
        self._say = say  # one line for the status bar
        self._parent = parent
        self.dialog: QWidget | None = None  # the open relabel / note / name dialog

    # -- detections ---------------------------------------------------------------------------

    def decide(self, status: str, final_species: str | None = None) -> None:
        """Decide on the selected detection (the first unreviewed one if none is selected),
        then select the next unreviewed detection."""
        panel = self.detections_panel
        row = panel.current_row()
        if row < 0:
            if not panel.step(1, unreviewed=True):
                self._say("No detection to review at these thresholds")
                return
            row = panel.current_row()
        event = panel.model.event_at(row)
        if event is None:
            return
        current = panel.model.decision_at(row)
        final = final_species if final_species is not None else event.label
        if status == STATUS_REJECTED:
            final = ""
        if self.review.decide(event, current, status, final):
            panel.step(1, unreviewed=True)

    def relabel(self) -> None:
        row = self.detections_panel.current_row()
        event = self.detections_panel.model.event_at(row)
        if event is None:
            self._say("Select a detection to relabel")
            return
        picker = SpeciesPicker(self._labels(), event.label, self._parent)
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen() -> None:
            label = picker.chosen()
            if label:
                self.decide(STATUS_RELABELLED, label)

        picker.accepted.connect(chosen)
        self.dialog = picker
        picker.open()

    def edit_note(self) -> None:
        row = self.detections_panel.current_row()
        current = self.detections_panel.model.decision_at(row)
        if current is None:
            self._say("Confirm, reject or relabel the detection first (A / R / L), then add a note")
            return
        self._ask_text(
            "Note",
            f"Note on this {current.status} detection:",
            current.note,
            lambda text: self.review.set_note(current, text),
        )

    def edit_reviewer(self) -> None:
        self._ask_text(
            "Reviewer",
            "Your name or initials (saved with every decision):",
            self.review.reviewer,
            self.set_reviewer,
        )

    def set_reviewer(self, name: str) -> None:
        self.review.reviewer = name.strip()
        self.settings.reviewer = name.strip()

    # -- the shown recording ------------------------------------------------------------------

    def toggle_recording_reviewed(self) -> None:
        path = self._current_path()
        if path is not None:
            review = self.review.recording_review(path)
            self.review.set_recording_review(path, replace(review, reviewed=not review.reviewed))

    def toggle_no_bats(self) -> None:
        path = self._current_path()
        if path is not None:
            review = self.review.recording_review(path)
            self.review.set_recording_review(path, replace(review, no_bats=not review.no_bats))

    def edit_manual_species(self) -> None:
        path = self._current_path()
        if path is None:
            return

        def entered(text: str) -> None:
            species = tuple(x.strip() for x in text.split(";") if x.strip())
            review = self.review.recording_review(path)
            self.review.set_recording_review(path, replace(review, manual_species=species))

        self._ask_text(
            "Species in this recording",
            "Species you identified here (codes or names, separated by ';'):",
            "; ".join(self.review.recording_review(path).manual_species),
            entered,
        )

    def _ask_text(self, title: str, label: str, value: str, done: Callable[[str], object]) -> None:
        """A text dialog that does not block the event loop; ``done`` gets the accepted text."""
        dialog = QInputDialog(self._parent)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setTextValue(value)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(done)
        self.dialog = dialog
        dialog.open()
