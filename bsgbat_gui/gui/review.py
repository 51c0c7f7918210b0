"""Reviewing detections: decisions written to the review store at once, undo/redo, the species
picker. The window's actions call :class:`ReviewController`; what is decided and how it attaches
to events is core (:mod:`bsgbat_gui.core.session.survey_session`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bsgbat_gui.core.checklist import KIND_SPECIES, Checklist, european_checklist
from bsgbat_gui.core.model_card import BACKGROUND_LABEL
from bsgbat_gui.core.review.decisions import Decision
from bsgbat_gui.core.session.survey_session import STORE_WRITE_ERRORS
from bsgbat_gui.core.species import species_for_label

if TYPE_CHECKING:
    from pathlib import Path

    from bsgbat_gui.core.review.decision_import import Change
    from bsgbat_gui.core.review.decisions import RecordingReview
    from bsgbat_gui.core.review.store import ReviewStore
    from bsgbat_gui.core.session.selection import SelectedEvent
    from bsgbat_gui.core.session.survey_session import SurveySession


class DecisionCommand(QUndoCommand):
    """Replace one decision (or none) by another (or none), in the store; undoable."""

    def __init__(
        self,
        controller: ReviewController,
        before: Decision | None,
        after: Decision | None,
        text: str,
    ) -> None:
        super().__init__(text)
        self.controller = controller
        self.before = before
        self.after = after

    def redo(self) -> None:
        saved, stored = self.controller._apply(self.before, self.after)
        if not saved:
            # The undo history says what the store holds: a change that was not saved (and
            # said so) is dropped from the stack instead of standing there as if made.
            self.setObsolete(True)
            return
        self.after = stored

    def undo(self) -> None:
        saved, stored = self.controller._apply(self.after, self.before)
        if not saved:
            self.setObsolete(True)  # the store still holds the change: nothing to undo to
            return
        self.before = stored


class DecisionBatchCommand(QUndoCommand):
    """Many decision changes at once (an import), in one transaction; undone as one."""

    def __init__(self, controller: ReviewController, changes: list[Change], text: str) -> None:
        super().__init__(text)
        self.controller = controller
        self.changes = changes

    def redo(self) -> None:
        stored = self.controller._apply_batch(self.changes)
        if stored is None:  # nothing applied (one transaction): not on the stack either
            self.setObsolete(True)
            return
        self.changes = [
            (before, after) for (before, _), after in zip(self.changes, stored, strict=True)
        ]

    def undo(self) -> None:
        if self.controller._apply_batch([(a, b) for b, a in self.changes]) is None:
            self.setObsolete(True)


class ReviewController(QObject):
    """Decisions made, undone and redone on the session's review store, each committed at once
    (the decisions themselves, and how they attach to events, are the session's:
    :class:`~bsgbat_gui.core.session.survey_session.SurveySession`).

    Signals
    -------
    decisions_changed()
        After every change (the table, shading and progress re-read :attr:`decisions`).
    problem(str)
        A decision could not be saved (read-only store, disk error): said once, nothing lost
        silently.
    """

    decisions_changed = Signal()
    problem = Signal(str)

    def __init__(self, session: SurveySession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.reviewer = ""
        self.undo_stack = QUndoStack(self)
        self._refused = False  # the last write was refused by the store (see _push)
        session.decisions_changed.connect(self._session_decisions_changed)
        session.store_changed.connect(self._store_changed)

    def _session_decisions_changed(self) -> None:
        self.decisions_changed.emit()

    def _store_changed(self) -> None:
        self.undo_stack.clear()  # undo stays within one store

    @property
    def store(self) -> ReviewStore | None:
        return self.session.store

    @property
    def decisions(self) -> list[Decision]:
        return self.session.decisions

    @property
    def recording_reviews(self) -> dict[Path, RecordingReview]:
        return self.session.recording_reviews

    @property
    def can_write(self) -> bool:
        return self.session.can_write

    def set_store(self, store: ReviewStore | None, *, problem: str = "") -> None:
        """Review into ``store``; None with the ``problem`` that kept a store from opening
        (every decision key then says it, instead of a vague "no store")."""
        self.session.set_store(store, problem=problem)

    def decide(
        self,
        event: SelectedEvent,
        current: Decision | None,
        status: str,
        final_species: str,
        *,
        note: str | None = None,
    ) -> bool:
        """Record a decision on ``event`` (replacing ``current``, the one attached to it)."""
        if not self._writable():
            return False
        after = Decision(
            path=event.path,
            species=event.label,
            start_s=event.start_s,
            end_s=event.end_s,
            status=status,
            final_species=final_species,
            note=note if note is not None else (current.note if current else ""),
            reviewer=self.reviewer,
            id=current.id if current else None,
        )
        code = european_checklist().code_for(final_species or event.label)
        return self._push(DecisionCommand(self, current, after, f"{status} {code}"))

    def set_note(self, current: Decision, note: str) -> bool:
        if not self._writable():
            return False
        after = replace(current, note=note, decided_at="")
        return self._push(DecisionCommand(self, current, after, "note"))

    def _push(self, command: QUndoCommand) -> bool:
        """Do ``command`` through the undo stack; whether it was saved (a command whose write
        failed makes itself obsolete in its first redo, and the stack deletes it)."""
        self._refused = False
        self.undo_stack.push(command)
        return not self._refused

    def _writable(self) -> bool:
        store = self.session.store
        if store is None:
            problem = self.session.store_problem
            self.problem.emit(
                f"Not saved: the review store cannot be used ({problem})."
                if problem
                else "No review store is open: open a folder first."
            )
            return False
        if store.read_only:
            self.problem.emit(
                f"{store.path} is open read-only (another bsgbat-gui window is using it):"
                " decisions cannot be saved here."
            )
            return False
        return True

    def _apply(self, old: Decision | None, new: Decision | None) -> tuple[bool, Decision | None]:
        """Write ``new`` in place of ``old``: (saved, ``new`` as stored, with its id); not
        saved when the store refused it (said once)."""
        if self.session.store is None:
            return True, new
        try:
            return True, self.session.replace_decision(old, new)
        except STORE_WRITE_ERRORS as exc:  # say so, keep the window working
            self.problem.emit(f"The decision was not saved: {exc}")
            self._refused = True
            return False, None

    def apply_import(self, changes: list[Change], text: str) -> bool:
        """Apply an import's changes as one undoable step."""
        if not changes or not self._writable():
            return False
        return self._push(DecisionBatchCommand(self, list(changes), text))

    def _apply_batch(self, changes: list[Change]) -> list[Decision | None] | None:
        """Apply ``changes`` in one transaction; None when the store refused them (said)."""
        if self.session.store is None:
            return [after for _, after in changes]
        try:
            return self.session.apply_changes(changes)
        except STORE_WRITE_ERRORS as exc:  # nothing applied: one transaction
            self.problem.emit(f"The import was not saved: {exc}")
            self._refused = True
            return None

    # -- recording level -----------------------------------------------------------------------

    def recording_review(self, path: Path) -> RecordingReview:
        return self.session.recording_review(path)

    def set_recording_review(self, path: Path, review: RecordingReview) -> bool:
        if not self._writable():
            return False
        try:
            self.session.set_recording_review(path, review)
        except STORE_WRITE_ERRORS as exc:
            self.problem.emit(f"Not saved: {exc}")
            return False
        return True


class SpeciesPicker(QDialog):
    """Relabel a detection: the model's species first, then the European checklist (every bat
    species, groups such as *Myotis sp.*, bat calls of undetermined species, non-bat sources),
    found by typing part of a code, scientific or English name. Text that matches no label can
    be used as it is — free text, said as such — with Enter."""

    FREE_TEXT_ROLE = Qt.ItemDataRole.UserRole + 1

    def __init__(
        self,
        labels: tuple[str, ...],
        current: str,
        checklist: Checklist,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Relabel detection")
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("type to search: code, scientific or English name")
        self.list = QListWidget(self)
        self._keys: list[str] = []  # per item: lower-case text searched
        model_species = [x for x in labels if x != BACKGROUND_LABEL]
        for label in model_species:
            taxon = checklist.find(label)
            english = taxon.english_name if taxon else species_for_label(label).common_name
            code = taxon.code if taxon else species_for_label(label).code
            self._add(label, f"{code}  {label} ({english}) · model species", [code, label, english])
        for taxon in checklist.taxa:
            if taxon.name in model_species:
                continue
            kind = "" if taxon.kind == KIND_SPECIES else f" · {taxon.kind}"
            self._add(
                taxon.name, f"{taxon.code}  {taxon.name} ({taxon.english_name}){kind}",
                [taxon.code, taxon.name, taxon.english_name],
            )  # fmt: skip
        self.free_item = QListWidgetItem("", self.list)
        self.free_item.setData(self.FREE_TEXT_ROLE, True)
        self.free_item.setHidden(True)
        self._keys.append("")
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == current:
                self.list.setCurrentRow(i)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.hint = QLabel("", self)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Relabel as:", self))
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)
        layout.addWidget(buttons)
        self.filter.textChanged.connect(self._filter)
        self.filter.returnPressed.connect(self.accept)
        self.list.itemActivated.connect(self.accept)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.resize(520, 520)

    def _add(self, label: str, text: str, keys: list[str]) -> None:
        item = QListWidgetItem(text, self.list)
        item.setData(Qt.ItemDataRole.UserRole, label)
        self._keys.append(" ".join(keys).casefold())

    def _filter(self, text: str) -> None:
        needle = text.strip().casefold()
        first_shown = None
        for i in range(self.list.count() - 1):  # the last item is the free-text one
            item = self.list.item(i)
            shown = needle in self._keys[i]
            item.setHidden(not shown)
            if shown and first_shown is None:
                first_shown = item
        free = text.strip()
        self.free_item.setText(f"Use \u201c{free}\u201d as written (free text)")
        self.free_item.setHidden(not free)
        if first_shown is not None:
            self.list.setCurrentItem(first_shown)
            self.hint.setText("Enter: the highlighted label · ↓ to the free text at the end")
        elif free:
            self.list.setCurrentItem(self.free_item)
            self.hint.setText(f"No label matches: Enter keeps \u201c{free}\u201d as free text")

    def chosen(self) -> str:
        item = self.list.currentItem()
        if item is None or item.isHidden():
            return ""
        if item.data(self.FREE_TEXT_ROLE):
            return self.filter.text().strip()
        return str(item.data(Qt.ItemDataRole.UserRole))
