"""Moments of a start-up, for ``bsgbat-gui benchmark --startup``: off unless asked.

With ``BSGBAT_STARTUP_PROBE=FILE`` in its environment the app appends one JSON line per moment
to FILE — ``{"event": NAME, "t": wall-clock seconds}`` — so a benchmark that started the process
can say how long each took, as a user would see it:

* ``window_painted``: the window's views first painted;
* ``action``: the benchmark's action begun (``BSGBAT_STARTUP_ACTION``: ``demo`` opens the demo
  as its button does, ``open:PATH`` opens a recording or folder, ``quit`` closes the window as
  Ctrl+Q does once an analysis is running);
* ``spectrogram_shown``: the shown recording's spectrogram set in the view and painted;
* ``tracks_shown``: its probability tracks set;
* ``quit``: the window told to close.

``BSGBAT_STARTUP_EXIT_ON=EVENT`` closes the window (a normal quit) once EVENT was recorded.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer

if TYPE_CHECKING:
    from bsgbat_gui.gui.main_window import MainWindow

PROBE_ENV = "BSGBAT_STARTUP_PROBE"
ACTION_ENV = "BSGBAT_STARTUP_ACTION"
EXIT_ON_ENV = "BSGBAT_STARTUP_EXIT_ON"
POLL_MS = 5


class StartupProbe(QObject):
    def __init__(self, window: MainWindow, out: Path, action: str, exit_on: str) -> None:
        super().__init__(window)
        self.window = window
        self.out = out
        self.action = action
        self.exit_on = exit_on
        self.seen: set[str] = set()
        central = window.centralWidget()
        assert central is not None  # the window builds it before it is shown
        self._painted_widgets = (central, window.spectrogram_view.viewport())
        for widget in self._painted_widgets:
            widget.installEventFilter(self)
        window.spectrogram_loader.loaded.connect(self._spectrogram_loaded)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def record(self, event: str) -> None:
        if event in self.seen:
            return
        self.seen.add(event)
        with self.out.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"event": event, "t": time.time()}) + "\n")
        if event == self.exit_on:
            QTimer.singleShot(0, self._quit)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and "window_painted" not in self.seen:
            # After this paint is done: the window is on screen.
            QTimer.singleShot(0, self._window_painted)
        return False

    def _window_painted(self) -> None:
        if "window_painted" in self.seen:
            return
        self.record("window_painted")
        for widget in self._painted_widgets:
            widget.removeEventFilter(self)
        if self.action == "demo":
            self.record("action")
            self.window.opener.open_demo()
        elif self.action.startswith("open:"):
            self.record("action")
            self.window.open_paths([Path(self.action.removeprefix("open:"))])

    def _spectrogram_loaded(self, _loaded: object) -> None:
        view = self.window.spectrogram_view
        if view.spectrogram is not None and "window_painted" in self.seen:
            view.viewport().repaint()
            self.record("spectrogram_shown")

    def _poll(self) -> None:
        window = self.window
        if "window_painted" in self.seen and window.track_view.analysis is not None:
            self.record("tracks_shown")
        if self.action == "quit" and window.analysis.is_running and "quit" not in self.seen:
            self.record("quit")
            window.close()

    def _quit(self) -> None:
        self.record("quit")
        self.window.close()


def install_from_environment(window: MainWindow) -> StartupProbe | None:
    out = os.environ.get(PROBE_ENV)
    if not out:
        return None
    return StartupProbe(
        window, Path(out), os.environ.get(ACTION_ENV, ""), os.environ.get(EXIT_ON_ENV, "")
    )
