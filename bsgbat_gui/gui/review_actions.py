"""What the review keys and menu entries do: decide on the selected detection (and move on),
relabel, notes, the reviewer's name, and the shown recording's own marks.

A decision applies to the **selected detection of the recording shown** (:meth:`target`) — never
to one of another recording; with none selected there a key says so and changes nothing.
Right/Left move through the shown recording in time order, then on to the next or previous
recording with detections (:mod:`bsgbat_gui.core.review.navigation`).

The window owns the actions (menus, shortcuts) and calls these; the decisions themselves, their
undo and their storage are the :class:`~bsgbat_gui.gui.review.ReviewController`'s. Every text
or species question is a dialog that does not block the event loop.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QInputDialog, QWidget

from bsgbat_gui.core.checklist import european_checklist
from bsgbat_gui.core.review.decisions import STATUS_REJECTED, STATUS_RELABELLED
from bsgbat_gui.core.review.navigation import (
    RecordingOrder,
    events_in_time_order,
    next_to_review,
    step_event,
)
from bsgbat_gui.gui.review import ReviewController, SpeciesPicker

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import numpy.typing as npt

    from bsgbat_gui.core.session.selection import SelectedEvent
    from bsgbat_gui.gui.detections_panel import DetectionsPanel
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
        recording_order: Callable[[], RecordingOrder],
        recording_states: Callable[[], npt.NDArray[np.bool_]],
        show_recording: Callable[[Path], None],
        say: Callable[[str], None],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.review = review
        self.detections_panel = detections_panel
        self.settings = settings
        self._labels = labels  # the species a detection may be relabelled to
        self._current_path = current_path  # the recording shown
        self._recording_order = recording_order  # as the recordings table shows them
        self._recording_states = recording_states  # per recording: it needs review
        self._show_recording = show_recording
        self._say = say  # one line for the status bar
        self._parent = parent
        self.dialog: QWidget | None = None  # the open relabel / note / name dialog

    # -- what a key acts on -------------------------------------------------------------------

    def target(self) -> SelectedEvent | None:
        """The detection the decision keys act on: the selected one, only if it belongs to the
        recording shown."""
        panel = self.detections_panel
        selected, path = panel.selected, self._current_path()
        if selected is None or path is None or selected.path != path:
            return None
        if panel.model.event_at(panel.current_row()) != selected:
            return None  # not (or no longer) a row of the table
        return selected

    def no_target_text(self) -> str:
        path = self._current_path()
        if path is None:
            return "No recording shown: open a folder first"
        return f"No detection selected in {path.name}: Right selects its first one"

    def _say_no_target(self) -> None:
        self._say(self.no_target_text())

    # -- detections ---------------------------------------------------------------------------

    def step(self, step: int) -> None:
        """Right (1) / Left (-1): the next / previous detection of the shown recording in time
        order; past its last (first), the first (last) of the next (previous) recording that
        has detections, said in the status bar."""
        panel = self.detections_panel
        detections = panel.model.detections
        if detections is None or not len(panel.model.rows):
            self._say("No detections at these thresholds")
            return
        current = panel.selected_event_index() if self.target() is not None else None
        result = step_event(
            detections, panel.model.rows, self._recording_order(), self._current_path(),
            current, step,
        )  # fmt: skip
        if result.event is None:
            self._say(result.message)
            return
        panel.select_event(result.event)
        if result.message:
            self._say(result.message)

    def decide(self, status: str, final_species: str | None = None) -> None:
        """Decide on the target detection, then select the next unreviewed detection of the
        same recording (the reviewer moves on to another recording, with U or PgDown)."""
        event = self.target()
        if event is None:
            self._say_no_target()
            return
        panel = self.detections_panel
        current = panel.model.decision_at(panel.current_row())
        final = final_species if final_species is not None else event.label
        if status == STATUS_REJECTED:
            final = ""
        if self.review.decide(event, current, status, final):
            self._next_unreviewed_here(event)

    def _next_unreviewed_here(self, decided: SelectedEvent) -> None:
        panel = self.detections_panel
        model = panel.model
        if model.detections is None:
            return
        mine = events_in_time_order(model.detections, model.rows, decided.path)
        undecided = [int(e) for e in mine if model.attached[e] < 0]
        if not undecided:
            self._say(
                f"Every detection of {decided.path.name} is decided — U: next recording to "
                "review, PgDown: next recording"
            )
            return
        here = panel.selected_event_index()
        position = int(np.flatnonzero(mine == here)[0]) if here is not None and here in mine else -1
        later = [e for e in undecided if int(np.flatnonzero(mine == e)[0]) > position]
        panel.select_event((later or undecided)[0])

    def next_recording_to_review(self) -> None:
        """U: the next recording (in the table's order) that still has undecided detections and
        is not marked; its first undecided detection selected."""
        order, states = self._recording_order(), self._recording_states()
        path = next_to_review(order, states, self._current_path())
        if path is None:
            self._say("No other recording needs review (unreviewed or partly reviewed)")
            return
        self._show_recording(path)
        model = self.detections_panel.model
        if model.detections is not None:
            mine = events_in_time_order(model.detections, model.rows, path)
            undecided = [int(e) for e in mine if model.attached[e] < 0]
            if undecided:
                self.detections_panel.select_event(undecided[0])
        self._say(f"Next recording to review: {path.name}")

    def relabel(self) -> None:
        event = self.target()
        if event is None:
            self._say_no_target()
            return
        picker = SpeciesPicker(self._labels(), event.label, european_checklist(), self._parent)
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen() -> None:
            label = picker.chosen()
            if label:
                self.decide(STATUS_RELABELLED, label)

        picker.accepted.connect(chosen)
        self.dialog = picker
        picker.open()

    def edit_note(self) -> None:
        if self.target() is None:
            self._say_no_target()
            return
        current = self.detections_panel.model.decision_at(self.detections_panel.current_row())
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
        if path is None:
            return
        review = self.review.recording_review(path)
        marked = not review.reviewed
        if self.review.set_recording_review(path, replace(review, reviewed=marked)):
            self._say(f"{path.name}: {'marked' if marked else 'no longer marked'} reviewed")

    def toggle_no_bats(self) -> None:
        path = self._current_path()
        if path is None:
            return
        review = self.review.recording_review(path)
        marked = not review.no_bats
        if not self.review.set_recording_review(path, replace(review, no_bats=marked)):
            return
        undecided = self._undecided_count(path)
        if marked and undecided:
            self._say(
                f"⚠ {path.name} marked 'no bats' with {undecided} detection"
                f"{'s' if undecided != 1 else ''} still unreviewed: they stay unreviewed "
                "(R rejects one); Ctrl+B again to unmark"
            )
        else:
            self._say(f"{path.name}: {'marked' if marked else 'no longer marked'} 'no bats'")

    def _undecided_count(self, path: Path) -> int:
        return self.review.session.undecided_count(path)

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
