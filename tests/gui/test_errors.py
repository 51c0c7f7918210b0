"""An error nobody caught: logged to the log file with its traceback, said once in a dialog, and
the window goes on; Qt's own warnings go to the log too; Help → Open log folder."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import QTimer, qWarning
from PySide6.QtWidgets import QMessageBox

from bsgbat_gui.core.app_log import log_file, log_to_file
from bsgbat_gui.gui import errors


def broken_slot() -> None:
    raise ZeroDivisionError("a bug in a slot")


@pytest.mark.qt_no_exception_capture
def test_an_uncaught_exception_is_logged_and_shown_once(qtbot, make_window) -> None:
    window = make_window(paths=[])
    path = log_to_file()
    assert path == log_file()
    reporter = errors.install(lambda: window)
    try:
        for _ in range(2):  # the same bug twice: logged twice, shown once
            QTimer.singleShot(0, broken_slot)
            qtbot.wait(50)
        qtbot.waitUntil(lambda: reporter.dialog is not None, timeout=5_000)
        assert isinstance(reporter.dialog, QMessageBox)
        assert "ZeroDivisionError: a bug in a slot" in reporter.dialog.text()
        assert str(path) in reporter.dialog.text()
        assert len(reporter.shown) == 1
        for handler in logging.getLogger().handlers:
            handler.flush()
        text = path.read_text(encoding="utf-8")
        assert text.count("uncaught ZeroDivisionError") == 2
        assert "Traceback" in text
        assert "broken_slot" in text
        assert window.isVisible()  # it goes on
        qWarning("a Qt warning for the log")
        for handler in logging.getLogger().handlers:
            handler.flush()
        assert "a Qt warning for the log" in path.read_text(encoding="utf-8")
    finally:
        import sys
        import threading

        sys.excepthook = sys.__excepthook__
        threading.excepthook = threading.__excepthook__
        from PySide6.QtCore import qInstallMessageHandler

        qInstallMessageHandler(None)
        root = logging.getLogger()
        for handler in list(root.handlers):
            if getattr(handler, "baseFilename", "") == str(path):
                root.removeHandler(handler)
                handler.close()


def test_help_opens_the_log_folder(qtbot, make_window, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    window = make_window(paths=[])
    action = next(a for a in window.actions() if a.text() == "Open log folder")
    action.trigger()
    assert opened
    assert opened[0].toLocalFile() == str(log_file().parent)
