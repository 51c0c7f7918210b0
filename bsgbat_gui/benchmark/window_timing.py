"""How fast the window shows a recording, and how long its event loop ever stalls.

* ``first_spectrogram_ms`` / ``first_track_ms``: a window already open (its helper processes
  started), the user opens a 5 s recording: time until the spectrogram, then the first
  probability track, are set in the view.
* ``max_gui_stall_ms``: while a folder is analysed in the window, the longest gap between two
  ticks of a 2 ms timer (what the user feels as a frozen window).

The window is the real one, offscreen, with the given models.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bsgbat_gui.benchmark.recordings import bat_calls, write_short_recordings
from bsgbat_gui.core.model_card import MODEL_SAMPLE_RATE_HZ

TICK_MS = 2


@dataclass(frozen=True)
class WindowTimings:
    first_spectrogram_ms: float
    first_track_ms: float
    max_gui_stall_ms: float
    stall_files: int


def _run_until(condition, timeout_s: float, on_tick=None) -> bool:
    """Run the event loop until ``condition()`` (checked every tick) or the timeout."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.perf_counter() + timeout_s
    met = [False]

    def tick() -> None:
        if on_tick is not None:
            on_tick()
        if condition():
            met[0] = True
            loop.quit()
        elif time.perf_counter() > deadline:
            loop.quit()

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    loop.exec()
    timer.stop()
    return met[0]


def measure_window(models: Path, *, stall_files: int = 12) -> WindowTimings:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import soundfile
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from bsgbat_gui.gui.main_window import MainWindow
    from bsgbat_gui.gui.settings import AppSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="bsgbat-bench-window-") as tmp:
        folder = Path(tmp)
        five = folder / "one" / "five-seconds.wav"
        five.parent.mkdir()
        soundfile.write(str(five), bat_calls(MODEL_SAMPLE_RATE_HZ, 5.0), MODEL_SAMPLE_RATE_HZ)
        night = folder / "night"
        write_short_recordings(night, count=stall_files, seconds=3.0)
        settings = AppSettings(QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat))

        window = MainWindow(paths=[], models_dir=models, settings=settings)
        window.resize(1600, 1000)
        window.show()
        # The app as a user meets it a few seconds after starting: helper processes started and
        # warmed up (their start-up is measured by nobody here), the window settled.
        _run_until(
            lambda: window.analysis.is_ready and window.spectrogram_loader.process.is_ready, 120
        )
        _run_until(lambda: False, 1.0)
        started = time.perf_counter()
        window.open_paths([five])
        _run_until(lambda: window.spectrogram_view.spectrogram is not None, 60)
        first_spectrogram = (time.perf_counter() - started) * 1000
        _run_until(lambda: window.track_view.analysis is not None, 300)
        first_track = (time.perf_counter() - started) * 1000

        # A folder analysed while the user looks at it: the longest event-loop gap.
        window.open_paths([night])
        last = [time.perf_counter()]
        worst = [0.0]

        def tick() -> None:
            now = time.perf_counter()
            worst[0] = max(worst[0], (now - last[0]) * 1000 - TICK_MS)
            last[0] = now

        _run_until(lambda: False, 0.5)  # opening itself is not analysis
        last[0] = time.perf_counter()
        _run_until(lambda: not window.analysis_busy, 900, on_tick=tick)
        window.close()
        app.processEvents()  # deliver the close; not a loop
    return WindowTimings(first_spectrogram, first_track, max(0.0, worst[0]), stall_files)
