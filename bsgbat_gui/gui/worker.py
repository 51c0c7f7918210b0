"""The only module that owns threads: Qt shells around the core's generators.

* :class:`AnalysisController` runs :func:`bsgbat_gui.core.analysis.analyse_recordings` in a
  QThread over a queue that the GUI can reorder (the selected recording jumps the queue).
* :class:`SpectrogramLoader` computes display spectrograms in another QThread.

Every result crosses threads as an immutable core object tagged with a run / request id; a result
whose id is no longer current is dropped by the receiver. Workers never touch widgets.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from bsgbat_gui.core.analysis import (
    RecordingAnalysed,
    RecordingFailed,
    RecordingStarted,
    SegmentsAnalysed,
    analyse_recordings,
    windows_for,
)
from bsgbat_gui.core.audio import ModelRateSignal, RecordingError, RecordingInfo, probe_recording
from bsgbat_gui.core.ensemble import Ensemble
from bsgbat_gui.core.models import ModelSetError, locate_model_set
from bsgbat_gui.core.segments import model_input_image
from bsgbat_gui.core.spectrogram import DisplaySpectrogram, display_spectrogram

log = logging.getLogger(__name__)


GUI_SWITCH_INTERVAL_S = 0.001


def share_the_gil_with_the_gui() -> None:
    """Let the GUI thread take the GIL back sooner from busy worker threads.

    The GUI thread's work (pyqtgraph painting) goes in and out of Python hundreds of times per
    frame; with Python's default 5 ms switch interval each re-entry can wait up to 5 ms behind a
    worker, which turns a 20 ms repaint into a visible stall.
    """
    if sys.getswitchinterval() > GUI_SWITCH_INTERVAL_S:
        sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)


def inference_threads() -> int:
    """ONNX Runtime threads for the GUI: every core but one, which stays with the event loop."""
    return max(1, (os.cpu_count() or 2) - 1)


def _import_heavy_modules() -> None:
    """Import and JIT-compile what analysis needs: ONNX Runtime, librosa's STFT, resampy's kernel.

    Loading these compiled libraries, and numba compiling on a first call (librosa's STFT,
    resampy's kernel), hold the GIL for up to a few hundred milliseconds at a time; doing it once,
    right after the window appears, keeps those pauses out of analysis.
    """
    import onnxruntime  # noqa: F401
    import scipy.special  # noqa: F401
    import soundfile  # noqa: F401

    from bsgbat_gui.core import resample
    from bsgbat_gui.core.model_card import MODEL_SAMPLE_RATE_HZ, RESAMPLER_FILTER
    from bsgbat_gui.core.spectrogram import mel_band_centres_hz, mel_power_from_samples

    mel_power_from_samples(np.zeros(4096, np.float32))
    mel_band_centres_hz()
    resample.resample_span(
        np.zeros(2048, np.float32),
        input_offset=0,
        out_start=0,
        out_stop=1024,
        n_input=2048,
        input_rate_hz=250_000,
        output_rate_hz=MODEL_SAMPLE_RATE_HZ,
        filter_name=RESAMPLER_FILTER,
    )


class _WarmUpWorker(QObject):
    done = Signal()

    @Slot()
    def run(self) -> None:
        try:
            _import_heavy_modules()
        except Exception:  # a broken install shows up properly when analysis starts
            log.exception("warm-up imports failed")
        self.done.emit()


class WarmUp(QObject):
    """Runs :func:`_import_heavy_modules` once in a background thread; ``ready`` when done."""

    ready = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.is_ready = False
        self._thread = QThread()
        self._thread.setObjectName("warm-up")
        self._worker = _WarmUpWorker()
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.done.connect(self._thread.quit)
        self._worker.done.connect(self._mark_ready)

    def start(self) -> None:
        self._thread.start()

    def _mark_ready(self) -> None:
        self.is_ready = True
        self.ready.emit()

    def shutdown(self) -> None:
        self._thread.quit()
        self._thread.wait(60_000)


class RecordingQueue:
    """Paths waiting for analysis; thread-safe; iterating pops from the front until empty."""

    def __init__(self, paths: list[Path]) -> None:
        self._items: deque[Path] = deque(paths)
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[Path]:
        while True:
            with self._lock:
                if not self._items:
                    return
                path = self._items.popleft()
            yield path

    def prioritise(self, path: Path) -> bool:
        """Move ``path`` to the front; False when it is not waiting (running or done)."""
        with self._lock:
            if path not in self._items:
                return False
            self._items.remove(path)
            self._items.appendleft(path)
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class _AnalysisWorker(QObject):
    started = Signal(int, object)  # run id, RecordingStarted
    progress = Signal(int, object)  # run id, SegmentsAnalysed
    analysed = Signal(int, object)  # run id, RecordingAnalysis
    failed = Signal(int, object)  # run id, RecordingFailed
    model_set_failed = Signal(int, str)  # run id, message
    # run id, cancelled (0/1): an int, not a bool: Python bools sent through queued PySide6
    # signals corrupted the refcount of True/False (fatal error at interpreter exit).
    finished = Signal(int, int)

    def __init__(
        self,
        run_id: int,
        queue: RecordingQueue,
        models_dir: Path | None,
        time_expansion: float | None,
        ensemble_cache: dict[str, Ensemble],
    ) -> None:
        super().__init__()
        self.run_id = run_id
        self.queue = queue
        self.models_dir = models_dir
        self.time_expansion = time_expansion
        self.stop_requested = threading.Event()
        self._ensemble_cache = ensemble_cache

    def _ensemble(self) -> Ensemble:
        model_set = locate_model_set(self.models_dir)
        key = str(model_set.folder.resolve())
        if key not in self._ensemble_cache:  # sessions are created once and reused across runs
            self._ensemble_cache.clear()
            self._ensemble_cache[key] = Ensemble(model_set, intra_op_threads=inference_threads())
        return self._ensemble_cache[key]

    @Slot()
    def run(self) -> None:
        rid = self.run_id
        try:
            ensemble = self._ensemble()
        except ModelSetError as exc:
            self.model_set_failed.emit(rid, str(exc))
            self.finished.emit(rid, 0)
            return
        for event in analyse_recordings(
            self.queue,
            ensemble,
            time_expansion=self.time_expansion,
            should_stop=self.stop_requested.is_set,
        ):
            if isinstance(event, RecordingStarted):
                self.started.emit(rid, event)
            elif isinstance(event, SegmentsAnalysed):
                self.progress.emit(rid, event)
            elif isinstance(event, RecordingAnalysed):
                self.analysed.emit(rid, event.analysis)
            elif isinstance(event, RecordingFailed):
                self.failed.emit(rid, event)
        self.finished.emit(rid, int(self.stop_requested.is_set()))


class AnalysisController(QObject):
    """Starts, reorders and cancels background analysis runs; re-emits results on the GUI thread.

    Signals carry the run id; :attr:`run_id` is the current one, so a receiver can drop results of
    a run that was replaced.
    """

    started = Signal(int, object)
    progress = Signal(int, object)
    analysed = Signal(int, object)
    failed = Signal(int, object)
    model_set_failed = Signal(int, str)
    finished = Signal(int, int)  # run id, cancelled (0/1)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        share_the_gil_with_the_gui()
        self.run_id = 0
        self._thread: QThread | None = None
        self._worker: _AnalysisWorker | None = None
        self._queue: RecordingQueue | None = None
        self._ensemble_cache: dict[str, Ensemble] = {}
        self._retired: list[tuple[QThread, _AnalysisWorker]] = []

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def start(
        self, paths: list[Path], *, models_dir: Path | None, time_expansion: float | None = None
    ) -> int:
        """Analyse ``paths`` in a new run (a running one is cancelled first); returns its id."""
        self.cancel()
        self.run_id += 1
        self._queue = RecordingQueue(paths)
        worker = _AnalysisWorker(
            self.run_id, self._queue, models_dir, time_expansion, self._ensemble_cache
        )
        thread = QThread()
        thread.setObjectName(f"analysis-run-{self.run_id}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        for name in ("started", "progress", "analysed", "failed", "model_set_failed", "finished"):
            getattr(worker, name).connect(getattr(self, name))
        worker.finished.connect(thread.quit)
        thread.finished.connect(self._forget_finished)
        self._thread, self._worker = thread, worker
        thread.start()
        return self.run_id

    def prioritise(self, path: Path) -> bool:
        return self._queue is not None and self._queue.prioritise(path)

    def cancel(self) -> None:
        """Ask the current run to stop after its current batch (does not block)."""
        if self._worker is not None and self._thread is not None:
            self._worker.stop_requested.set()
            self._retired.append((self._thread, self._worker))
        self._thread, self._worker, self._queue = None, None, None

    def _forget_finished(self) -> None:
        self._retired = [(t, w) for t, w in self._retired if t.isRunning()]

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Stop every run and wait for the threads (window closing)."""
        self.cancel()
        for thread, _worker in self._retired:
            thread.quit()
            if not thread.wait(timeout_ms):
                log.warning("analysis thread did not stop within %d ms", timeout_ms)
        self._retired.clear()


@dataclass(frozen=True)
class LoadedSpectrogram:
    path: Path
    info: RecordingInfo
    spectrogram: DisplaySpectrogram
    model_input: np.ndarray | None  # [frames, 128] 0..6, when the spectrogram is not reduced
    levels: tuple[float, float]  # automatic dB levels, computed here rather than on the GUI thread


class _SpectrogramWorker(QObject):
    loaded = Signal(int, object)  # request id, LoadedSpectrogram
    failed = Signal(int, object, str)  # request id, path, reason

    def __init__(self, latest_request: list[int]) -> None:
        super().__init__()
        self._latest = latest_request

    @Slot(int, object, object)
    def load(self, request_id: int, path: Path, time_expansion: object) -> None:
        if request_id != self._latest[0]:
            return  # the user has moved on; skip stale work
        try:
            info = probe_recording(path, time_expansion=time_expansion)  # type: ignore[arg-type]
            with ModelRateSignal(info) as signal:
                spectrogram = display_spectrogram(
                    signal, should_stop=lambda: request_id != self._latest[0]
                )
        except RecordingError as exc:
            self.failed.emit(request_id, path, str(exc))
            return
        except Exception as exc:  # keep the loader alive for the next recording
            log.exception("display spectrogram failed for %s", path)
            self.failed.emit(request_id, path, f"internal error: {exc}")
            return
        if spectrogram is None:
            return
        model_input = None
        if spectrogram.frames_per_column == 1:
            log_mel = spectrogram.db / np.float32(10.0)
            model_input = model_input_image(log_mel, windows_for(info))
        self.loaded.emit(
            request_id,
            LoadedSpectrogram(path, info, spectrogram, model_input, spectrogram.auto_levels()),
        )


class SpectrogramLoader(QObject):
    """Computes display spectrograms off the GUI thread; only the latest request is delivered."""

    loaded = Signal(object)  # LoadedSpectrogram
    failed = Signal(object, str)  # path, reason
    _request = Signal(int, object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._latest = [0]
        self._thread = QThread()
        self._thread.setObjectName("spectrogram-loader")
        self._worker = _SpectrogramWorker(self._latest)
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.load)
        self._worker.loaded.connect(self._deliver)
        self._worker.failed.connect(self._deliver_failure)
        self._thread.start()

    def request(self, path: Path, *, time_expansion: float | None = None) -> None:
        self._latest[0] += 1
        self._request.emit(self._latest[0], path, time_expansion)

    def _deliver(self, request_id: int, result: LoadedSpectrogram) -> None:
        if request_id == self._latest[0]:
            self.loaded.emit(result)

    def _deliver_failure(self, request_id: int, path: Path, reason: str) -> None:
        if request_id == self._latest[0]:
            self.failed.emit(path, reason)

    def shutdown(self) -> None:
        self._latest[0] += 1  # makes any computation in flight stop at its next block
        self._thread.quit()
        self._thread.wait(30_000)
