"""How long the window takes to show a threshold or combine-method change on a long recording.

The real :class:`MainWindow` is opened offscreen with a 60-minute synthetic analysis (7,200
segments) shown, its spectrogram and tracks visible, and every row in the detections table. Each
measurement is one change made the way the panel makes it (through the ThresholdModel), followed
by a synchronous repaint of the spectrogram/track view and of the detections table, so the time
includes recomputing the events, re-sorting the table, re-shading and painting.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bsgbat_gui.benchmark.synthetic import (
    long_recording_info,
    synthetic_analysis,
    synthetic_display_spectrogram,
)
from bsgbat_gui.core.models.ensemble import COMBINE_METHODS

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class LatencyResult:
    threshold_update_ms: float  # median
    threshold_update_p95_ms: float
    combine_update_ms: float  # median
    combine_update_p95_ms: float
    n_segments: int
    n_events: int  # at the default thresholds


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _wait(ms: int) -> None:
    """Let queued events (layout, the loader's reply) run, without a processEvents loop."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def measure_threshold_latency(
    *, minutes: float = 60.0, repeats: int = 40, log: Callable[[str], None] | None = None
) -> LatencyResult:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from bsgbat_gui.gui.main_window import MainWindow
    from bsgbat_gui.gui.settings import AppSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="bsgbat-bench-") as tmp:
        folder = Path(tmp)
        # A tiny real file, so the window opens it the ordinary way; its analysis and image are
        # then replaced by the 60-minute synthetic ones.
        import numpy as np
        import soundfile

        path = folder / f"synthetic-{minutes:g}min.wav"
        soundfile.write(path, np.zeros(38_400, np.int16), 384_000, subtype="PCM_16")
        settings = AppSettings(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
        window = MainWindow(paths=[], models_dir=folder / "no-models", settings=settings)
        window.resize(1600, 1000)
        window.show()
        window.open_paths([path])
        _wait(1500)  # the loader shows the tiny file; the analysis finds no models
        analysis = synthetic_analysis(long_recording_info(path, minutes))
        window.analysis_runs.add_analysis(analysis)
        window.spectrogram_view.set_spectrogram(
            synthetic_display_spectrogram(analysis.info.duration_s), None, (-60.0, -20.0)
        )
        _wait(200)
        n_events = len(window.session.detections.events) if window.session.detections else 0
        if log:
            log(
                f"{len(analysis.windows)} segments, {n_events} events at 0.5; "
                f"{repeats} threshold changes, {repeats} combine changes"
            )

        def repaint() -> None:
            window.spectrogram_view.viewport().repaint()
            window.detections_panel.table.viewport().repaint()

        thresholds = window.thresholds
        species = [x for x in analysis.labels if thresholds.is_visible(x)]
        threshold_ms: list[float] = []
        for k in range(repeats):
            label = species[k % len(species)]
            value = 0.3 + 0.4 * ((k * 7) % 10) / 10
            start = time.perf_counter()
            thresholds.set_threshold(label, value)
            repaint()
            threshold_ms.append((time.perf_counter() - start) * 1000)
        combine_ms: list[float] = []
        for k in range(repeats):
            method = COMBINE_METHODS[(k + 1) % len(COMBINE_METHODS)]
            start = time.perf_counter()
            thresholds.set_combine(method)
            repaint()
            combine_ms.append((time.perf_counter() - start) * 1000)
        window.close()
        app.processEvents()  # deliver the close; not a loop
    return LatencyResult(
        threshold_update_ms=statistics.median(threshold_ms),
        threshold_update_p95_ms=_percentile(threshold_ms, 0.95),
        combine_update_ms=statistics.median(combine_ms),
        combine_update_p95_ms=_percentile(combine_ms, 0.95),
        n_segments=len(analysis.windows),
        n_events=n_events,
    )
