"""Errors nobody caught, and Qt's own messages: logged, and said once.

``install`` routes three things to the log (:mod:`bsgbat_gui.core.app_log`): exceptions that
reach ``sys.excepthook`` (a bug in a slot, on the GUI thread) or ``threading.excepthook`` (a
worker thread), and Qt's warnings (``qInstallMessageHandler``). An uncaught exception is also
shown once — one non-blocking dialog per kind of error, saying it was logged and where — and the
window goes on working.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from typing import TYPE_CHECKING

from PySide6.QtCore import QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QMessageBox, QWidget

from bsgbat_gui.core.app_log import log_file

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

log = logging.getLogger("bsgbat_gui.uncaught")
qt_log = logging.getLogger("qt")

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


class ErrorReporter:
    """Logs uncaught exceptions and shows each kind once, over ``parent`` (the window)."""

    def __init__(self, parent: Callable[[], QWidget | None]) -> None:
        self._parent = parent
        self.shown: set[tuple[str, str]] = set()  # (exception type, where): said already
        self.dialog: QMessageBox | None = None
        self._previous = sys.excepthook

    def excepthook(
        self,
        kind: type[BaseException],
        error: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self._previous(kind, error, tb)
            return
        log.error("uncaught %s", kind.__name__, exc_info=(kind, error, tb))
        frames = traceback.extract_tb(tb)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        key = (kind.__name__, where)
        if key in self.shown:
            return
        self.shown.add(key)
        # Shown from the event loop (the hook may run inside a paint or another thread's call).
        QTimer.singleShot(0, lambda: self._show(kind, error))

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def _show(self, kind: type[BaseException], error: BaseException) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "bsgbat-gui: an unexpected error",
            f"Something went wrong inside bsgbat-gui: {kind.__name__}: {error}\n\n"
            "Your decisions are saved as you make them; the window goes on working. The details "
            f"are in the log ({log_file()}) — Help → Open log folder. Please report it.",
            QMessageBox.StandardButton.Ok,
            self._parent(),
        )
        self.dialog = box
        box.open()


def qt_message_handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's warnings in the app's log instead of lost on stderr."""
    qt_log.log(_QT_LEVELS.get(kind, logging.WARNING), "%s", message)


def install(parent: Callable[[], QWidget | None]) -> ErrorReporter:
    """Route uncaught exceptions (GUI and worker threads) and Qt's messages to the log."""
    reporter = ErrorReporter(parent)
    sys.excepthook = reporter.excepthook
    threading.excepthook = reporter.thread_excepthook
    qInstallMessageHandler(qt_message_handler)
    return reporter
