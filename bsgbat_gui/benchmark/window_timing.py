"""How fast the window shows a recording, and how long its event loop ever stalls.

* ``first_spectrogram_ms`` / ``first_track_ms``: a window already open (its helper processes
  started), the user opens a 5 s recording: time until the spectrogram is set in the view and
  painted, then until the first probability track is set.
* ``max_gui_stall_ms``: while a folder is analysed in the window, the longest gap between two
  ticks of a 2 ms timer (what the user feels as a frozen window).

The window is the real one, offscreen, with the given models, started the way ``bsgbat-gui``
starts it, in a process of its own (``python -m bsgbat_gui.benchmark.window_timing MODELS_DIR``
prints one JSON line): the benchmark's own heap — six models built, throughput runs — is not the
app's and must not be in the measured event loop.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bsgbat_gui.benchmark.child import run_measurement
from bsgbat_gui.benchmark.recordings import bat_calls, write_short_recordings
from bsgbat_gui.core.model_card import MODEL_SAMPLE_RATE_HZ

TICK_MS = 2


@dataclass(frozen=True)
class WindowTimings:
    first_spectrogram_ms: float
    first_track_ms: float
    max_gui_stall_ms: float
    stall_files: int
    # Longest garbage-collector pass while the folder was analysed: says whether a stall was
    # the collector's.
    max_gc_pause_ms: float


def run_until(condition, timeout_s: float, on_tick=None) -> bool:
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


def first_picture_times(window: Any) -> list[float]:
    """A list the time (``perf_counter``) the first spectrogram is shown is appended to.

    "Shown" = set in the view and painted: timed in a slot that runs right after the window's
    own (connected later, so called later), with a synchronous repaint, as the threshold
    latency is timed — not whenever the next timer tick gets its turn.
    """
    shown_at: list[float] = []

    def spectrogram_delivered(_loaded: object) -> None:
        if not shown_at and window.spectrogram_view.spectrogram is not None:
            window.spectrogram_view.viewport().repaint()
            shown_at.append(time.perf_counter())

    window.spectrogram_loader.loaded.connect(spectrogram_delivered)
    return shown_at


def measure_window(models: Path, *, stall_files: int = 12) -> WindowTimings:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import soundfile
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from bsgbat_gui.gui.app import exempt_startup_objects_from_gc
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
        exempt_startup_objects_from_gc()  # as run_gui does
        # The app as a user meets it a few seconds after starting: helper processes started and
        # warmed up (their start-up is measured by nobody here), the window settled.
        run_until(
            lambda: window.analysis.is_ready and window.spectrogram_loader.process.is_ready, 120
        )
        run_until(lambda: False, 1.0)
        shown_at = first_picture_times(window)
        started = time.perf_counter()
        window.open_paths([five])
        if not run_until(lambda: bool(shown_at), 60):
            raise RuntimeError("the 5 s recording's spectrogram was not shown within 60 s")
        first_spectrogram = (shown_at[0] - started) * 1000
        run_until(lambda: window.track_view.analysis is not None, 300)
        first_track = (time.perf_counter() - started) * 1000

        # A folder analysed while the user looks at it: the longest event-loop gap.
        window.open_paths([night])
        last = [time.perf_counter()]
        worst = [0.0]

        def tick() -> None:
            now = time.perf_counter()
            worst[0] = max(worst[0], (now - last[0]) * 1000 - TICK_MS)
            last[0] = now

        run_until(lambda: False, 0.5)  # opening itself is not analysis
        last[0] = time.perf_counter()
        with _GcPauses() as gc_pauses:
            run_until(lambda: not window.analysis_runs.busy, 900, on_tick=tick)
        window.close()
        app.processEvents()  # deliver the close; not a loop
    return WindowTimings(
        first_spectrogram, first_track, max(0.0, worst[0]), stall_files, gc_pauses.longest_ms
    )


class _GcPauses:
    """The longest garbage-collector pass while the context is open."""

    def __init__(self) -> None:
        self.longest_ms = 0.0
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.longest_ms = max(self.longest_ms, (time.perf_counter() - self._started) * 1000)

    def __enter__(self) -> _GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def measure_window_in_subprocess(models: Path, timeout_s: float = 1200) -> WindowTimings:
    """:func:`measure_window` in a new Python process, as the app runs; RuntimeError on failure."""
    result = run_measurement(
        "bsgbat_gui.benchmark.window_timing", [str(models)], timeout_s=timeout_s,
        what="window timing",
    )  # fmt: skip
    return WindowTimings(**result)


def main(argv: list[str]) -> int:
    timings = measure_window(Path(argv[0]))
    sys.stdout.write(json.dumps(dataclasses.asdict(timings)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
