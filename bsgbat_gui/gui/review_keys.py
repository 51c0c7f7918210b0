"""Single-key review shortcuts that work whichever panel has focus.

Qt gives a focused widget first claim on a key: after a threshold was typed into a spin box,
Space and letters went into the box (Space blanked the target precision) instead of playing or
deciding. This filter takes the review keys back from every widget of the main window except a
text field really being edited (a search box, a note), so A, R, L, N, U, Space, Right/Left and
PgUp/PgDown always reach the review; Escape gives the focus back to the review from anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

REVIEW_KEYS = (
    Qt.Key.Key_A, Qt.Key.Key_R, Qt.Key.Key_L, Qt.Key.Key_N, Qt.Key.Key_U, Qt.Key.Key_Space,
    Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown,
    Qt.Key.Key_F, Qt.Key.Key_M,  # the frequency axis and the call marks, while measuring
)  # fmt: skip


def is_text_entry(widget: QWidget | None) -> bool:
    """Whether ``widget`` is a field the user types text into (keys are its own)."""
    if isinstance(widget, QTextEdit | QPlainTextEdit):
        return not widget.isReadOnly()
    if isinstance(widget, QLineEdit):
        owner = widget.parent()
        if isinstance(owner, QAbstractSpinBox):
            return False  # a number box: digits are its own, review keys are not
        if isinstance(owner, QComboBox) and not owner.isEditable():
            return False
        return not widget.isReadOnly()
    return False


class ReviewKeyFilter(QObject):
    """Installed on the application; acts only on key events of ``window``'s own widgets (not
    its dialogs, menus or popups, which keep their keys)."""

    def __init__(self, window: QWidget, home: QWidget, keys: Iterable[Qt.Key] = REVIEW_KEYS):
        super().__init__(window)
        self.window = window
        self.home = home  # where Escape puts the focus: the review's own list
        self.keys = {int(k) for k in keys}

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        if not isinstance(watched, QWidget) or watched.window() is not self.window:
            return False
        assert isinstance(event, QKeyEvent)
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if modifiers != Qt.KeyboardModifier.NoModifier:
            return False
        key = event.key()
        focus = QApplication.focusWidget()
        if key == Qt.Key.Key_Escape:
            if kind == QEvent.Type.KeyPress and focus is not self.home:
                self.home.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return True
            return False
        if key not in self.keys or is_text_entry(focus):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            # Not claimed by the widget: the window's shortcut for the key runs.
            event.ignore()
            return True
        return False
