"""The only module that owns threads: Qt shells around the core's generators.

* :class:`AnalysisController` analyses recordings
  (:func:`bsgbat_gui.core.compute.jobs.analysis_job`) from a QThread, one recording at a time,
  over a queue that the GUI can reorder (the selected recording jumps the queue).
* :class:`SpectrogramLoader` computes display spectrograms from another QThread.
* :class:`CallMeasurer` measures the shown recording's calls from a third.

Each QThread only iterates a generator whose work runs in a child process
(:class:`bsgbat_gui.core.compute.process.ComputeProcess`), so the GUI process keeps its GIL and
cores for the event loop.

Every result crosses threads as an immutable core object tagged with a run / request id; a result
whose id is no longer current is dropped by the receiver. Workers never touch widgets.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from bsgbat_gui.core.analysis.analyse import (
    RecordingAnalysed,
    RecordingFailed,
    RecordingStarted,
    SegmentsAnalysed,
)
from bsgbat_gui.core.analysis.stacked import recombine_block
from bsgbat_gui.core.audio.guano_write import GuanoUpdate, write_guano_updates
from bsgbat_gui.core.audio.playback import PlaybackSettings, prepare_playback
from bsgbat_gui.core.audio.recording import RecordingError, RecordingInfo
from bsgbat_gui.core.compute.call_jobs import CallsMeasured, calls_job
from bsgbat_gui.core.compute.jobs import (
    LoadedDetail,
    LoadedLinear,
    analysis_job,
    detail_job,
    linear_job,
    spectrogram_job,
    warm_up,
    warm_up_analysis,
)
from bsgbat_gui.core.compute.process import ComputeProcess, ComputeProcessDied, Job
from bsgbat_gui.core.evaluation.night_activity import night_activity
from bsgbat_gui.core.evaluation.report import survey_report
from bsgbat_gui.core.evaluation.report_html import write_report
from bsgbat_gui.core.models.download import (
    BytesReceived,
    DownloadError,
    FileInstalled,
    FileStarted,
    download_model_set,
)
from bsgbat_gui.core.models.locate import ModelSet, ModelSetError, locate_model_set
from bsgbat_gui.core.review.analysis_cache import StoreCache
from bsgbat_gui.core.review.connection import StoreError
from bsgbat_gui.core.review.store import ReviewStore
from bsgbat_gui.core.review.survey import recording_rows

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from bsgbat_gui.core.analysis.stacked import Recombination
    from bsgbat_gui.core.calls.settings import CallSettings
    from bsgbat_gui.core.evaluation.night_activity import Position
    from bsgbat_gui.core.evaluation.sampling import VerificationSample
    from bsgbat_gui.core.models.ensemble import CombineMethod
    from bsgbat_gui.core.review.survey import Survey

log = logging.getLogger(__name__)

# Child processes run below the GUI's scheduling priority, the selected recording's spectrogram
# above the queue's analysis.
ANALYSIS_NICENESS = 10
# What the user is looking at is computed at normal priority: on a busy computer a lowered one
# left the shown recording waiting behind every other program. Only the batch analysis yields.
SPECTROGRAM_NICENESS = 0


def inference_threads() -> int:
    """ONNX Runtime threads for the GUI: every core but one, which stays with the event loop."""
    return max(1, (os.cpu_count() or 2) - 1)


def run_in_thread(worker: Any, name: str, relay_to: QObject, relays: tuple[str, ...]) -> QThread:
    """Start ``worker.run`` in a new QThread named ``name``: ``worker`` moved to it, each of its
    ``relays`` signals re-emitted by ``relay_to``'s signal of the same name; the thread quits
    when the worker emits ``finished``. The caller keeps the thread (and waits for it)."""
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    for signal in relays:
        getattr(worker, signal).connect(getattr(relay_to, signal))
    worker.finished.connect(thread.quit)
    thread.start()
    return thread


class RecordingQueue:
    """Paths waiting for analysis; thread-safe; iterating pops from the front until empty.

    An ordered dict: moving the recording on screen to the front and popping are O(1), however
    many recordings a season queues (a deque searched them one by one).
    """

    def __init__(self, paths: list[Path]) -> None:
        self._items: OrderedDict[Path, None] = OrderedDict.fromkeys(paths)
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[Path]:
        while True:
            with self._lock:
                if not self._items:
                    return
                path, _ = self._items.popitem(last=False)
            yield path

    def prioritise(self, path: Path) -> bool:
        """Move ``path`` to the front; False when it is not waiting (running or done)."""
        with self._lock:
            if path not in self._items:
                return False
            self._items.move_to_end(path, last=False)
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def take_all(self) -> list[Path]:
        """Every waiting path, in order; the queue is left empty."""
        with self._lock:
            paths = list(self._items)
            self._items.clear()
            return paths

    def put_back(self, paths: list[Path]) -> None:
        """Queue ``paths`` again, in front, in their order (what a first pass left)."""
        with self._lock:
            for path in reversed(paths):
                self._items[path] = None
                self._items.move_to_end(path, last=False)


class _AnalysisWorker(QObject):
    started = Signal(int, object)  # run id, RecordingStarted
    progress = Signal(int, object)  # run id, SegmentsAnalysed
    analysed = Signal(int, object)  # run id, RecordingAnalysed
    analysed_block = Signal(int, object)  # run id, AnalysisBlock (read from the store)
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
        process: ComputeProcess,
        store_path: Path | None = None,
        combine: CombineMethod = "mean",
    ) -> None:
        super().__init__()
        self.store_path = store_path
        self.combine: CombineMethod = combine
        self.run_id = run_id
        self.queue = queue
        self.models_dir = models_dir
        self.time_expansion = time_expansion
        self.stop_requested = threading.Event()
        self._process = process

    @Slot()
    def run(self) -> None:
        rid = self.run_id
        try:
            model_set = locate_model_set(self.models_dir)
            if self.store_path is not None:
                self._deliver_cached(rid, model_set)
            for index, path in enumerate(self.queue):
                if self.stop_requested.is_set():
                    break
                self._analyse(rid, index, path, model_set)
        except ModelSetError as exc:
            self.model_set_failed.emit(rid, str(exc))
        self.finished.emit(rid, int(self.stop_requested.is_set()))

    def _deliver_cached(self, rid: int, model_set: ModelSet) -> None:
        """Every recording the review store holds an analysis of (by this model set) comes
        straight from the store, here in the window's process: a SQLite read, no model, no
        helper process — so a reopened folder shows its results at once, however busy the
        machine. Read a chunk of recordings per query and checked by ``stat`` (the shown one
        alone first), delivered as one block per chunk: a season's 100,000 recordings are 50
        signals, not 100,000 header probes and signals. The queue keeps only the others, in
        their order (the shown one first)."""
        assert self.store_path is not None
        try:
            store = ReviewStore.open(self.store_path, exclusive=False)
        except StoreError as exc:
            log.info("analysis cache not read: %s", exc)
            return
        cache = StoreCache(store, model_set)
        waiting = self.queue.take_all()
        misses: list[Path] = []
        done = 0
        try:
            blocks = store.cached_blocks(
                waiting, cache.model_set_id, time_expansion=self.time_expansion,
                combine=self.combine,
            )  # fmt: skip
            for block, missed in blocks:
                misses += missed
                done += len(missed) + (len(block) if block is not None else 0)
                if block is not None:
                    self.analysed_block.emit(rid, block)
                if self.stop_requested.is_set():
                    break
        except (sqlite3.Error, OSError) as exc:
            log.warning("%s: cannot read the analysis cache: %s", self.store_path, exc)
        finally:
            store.close()
            self.queue.put_back(misses + waiting[done:])

    def _analyse(self, rid: int, index: int, path: Path, model_set: object) -> None:
        try:
            for event in self._process.iterate(
                analysis_job,
                path,
                model_set,
                self.time_expansion,
                inference_threads(),
                self.store_path,
            ):
                if isinstance(event, RecordingStarted):
                    self.started.emit(rid, event)
                elif isinstance(event, SegmentsAnalysed):
                    self.progress.emit(rid, event)
                elif isinstance(event, RecordingAnalysed):
                    self.analysed.emit(rid, event)
                elif isinstance(event, RecordingFailed):
                    self.failed.emit(rid, event)
        except ComputeProcessDied as exc:  # e.g. killed for memory: this file fails, others go on
            self.failed.emit(rid, RecordingFailed(index, path, str(exc)))


class AnalysisController(QObject):
    """Starts, reorders and cancels background analysis runs; re-emits results on the GUI thread.

    Signals carry the run id; :attr:`run_id` is the current one, so a receiver can drop results of
    a run that was replaced.
    """

    started = Signal(int, object)
    progress = Signal(int, object)
    analysed = Signal(int, object)
    analysed_block = Signal(int, object)
    failed = Signal(int, object)
    model_set_failed = Signal(int, str)
    finished = Signal(int, int)  # run id, cancelled (0/1)

    def __init__(self, parent: QObject | None = None, *, models_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.run_id = 0
        # The process loads the models as it starts (``models_dir``: as for :meth:`start`).
        self.process = ComputeProcess(
            "analysis",
            niceness=ANALYSIS_NICENESS,
            initializer=functools.partial(warm_up_analysis, models_dir, inference_threads()),
        )
        self._thread: QThread | None = None
        self._worker: _AnalysisWorker | None = None
        self._queue: RecordingQueue | None = None
        self._retired: list[tuple[QThread, _AnalysisWorker]] = []

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    @property
    def is_ready(self) -> bool:
        """True once the analysis process has loaded its libraries."""
        return self.process.is_ready

    def start(
        self,
        paths: list[Path],
        *,
        models_dir: Path | None,
        time_expansion: float | None = None,
        store_path: Path | None = None,
        combine: CombineMethod = "mean",
    ) -> int:
        """Analyse ``paths`` in a new run (a running one is cancelled first); returns its id.

        With ``store_path`` the review store is the analysis cache (see ``analysis_job``); what
        it holds arrives as blocks of probabilities by ``combine``.
        """
        self.cancel()
        self.run_id += 1
        self._queue = RecordingQueue(paths)
        worker = _AnalysisWorker(
            self.run_id, self._queue, models_dir, time_expansion, self.process, store_path,
            combine,
        )  # fmt: skip
        relays = (
            "started", "progress", "analysed", "analysed_block", "failed", "model_set_failed",
            "finished",
        )  # fmt: skip
        thread = run_in_thread(worker, f"analysis-run-{self.run_id}", self, relays)
        thread.finished.connect(self._forget_finished)
        self._thread, self._worker = thread, worker
        return self.run_id

    def prioritise(self, path: Path) -> bool:
        return self._queue is not None and self._queue.prioritise(path)

    def cancel(self) -> None:
        """Ask the current run to stop after its current batch (does not block)."""
        if self._worker is not None and self._thread is not None:
            self._worker.stop_requested.set()
            self.process.request_stop()
            self._retired.append((self._thread, self._worker))
        self._thread, self._worker, self._queue = None, None, None

    def _forget_finished(self) -> None:
        self._retired = [(t, w) for t, w in self._retired if t.isRunning()]

    def shutdown(self, timeout_ms: int = 2_000) -> None:
        """Stop every run and end the analysis process, then wait for the threads (window
        closing). The process goes first: a thread waiting for its child's answer is released
        when the child ends, so quitting takes a fraction of a second, not a model load."""
        self.cancel()
        self.process.close()
        for thread, _worker in self._retired:
            thread.quit()
            if not thread.wait(timeout_ms):
                log.warning("analysis thread did not stop within %d ms", timeout_ms)
        self._retired.clear()


class _LatestJobWorker(QObject):
    """Runs the jobs a _LatestRequestRunner asks for in its compute process, skipping stale
    ones; in the runner's QThread."""

    result = Signal(int, object)  # request id, what the job yielded (see _LatestRequestRunner)
    failed = Signal(int, object, str)  # request id, path, reason

    def __init__(self, latest_request: list[int], process: ComputeProcess) -> None:
        super().__init__()
        self._latest = latest_request
        self._process = process

    @Slot(int, object, object, object)
    def load(self, request_id: int, path: Path, job: Job, args: tuple[object, ...]) -> None:
        if request_id != self._latest[0]:
            return  # the user has moved on; skip stale work
        try:
            for result in self._process.iterate(job, path, *args):
                self.result.emit(request_id, result)
        except (RecordingError, ComputeProcessDied) as exc:
            self.failed.emit(request_id, path, str(exc))
        except Exception as exc:  # keep the loader alive for the next recording
            log.exception("%s failed for %s", getattr(job, "__name__", "job"), path)
            self.failed.emit(request_id, path, f"internal error: {exc}")


class _LatestRequestRunner(QObject):
    """Runs jobs in a compute process of its own from a QThread; only the latest request is
    delivered (a newer one stops the one in flight: it is for a view the user has left).
    Subclasses say what each result is (:meth:`_route`).
    """

    failed = Signal(object, str)  # path, reason
    _request = Signal(int, object, object, object)

    def __init__(
        self,
        name: str,
        *,
        initializer: Callable[[], None] | None = None,
        niceness: int = SPECTROGRAM_NICENESS,
        start_now: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._name = name
        self._niceness = niceness
        self._initializer = initializer
        self._latest = [0]
        self.process: ComputeProcess | None = None
        self._thread: QThread | None = None
        if start_now:
            self._start()

    def _start(self) -> None:
        self.process = ComputeProcess(
            self._name, niceness=self._niceness, initializer=self._initializer
        )
        self._thread = QThread()
        self._thread.setObjectName(f"{self._name}-thread")
        self._worker = _LatestJobWorker(self._latest, self.process)
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.load)
        self._worker.result.connect(self._deliver)
        self._worker.failed.connect(self._deliver_failure)
        self._thread.start()

    def _submit(self, path: Path, job: Job, args: tuple[object, ...]) -> None:
        if self.process is None:
            self._start()
        assert self.process is not None
        self._latest[0] += 1
        self.process.request_stop()  # a computation in flight is for a view left behind
        self._request.emit(self._latest[0], path, job, args)

    def cancel(self) -> None:
        """Drop the request in flight (nothing more of it is delivered)."""
        self._latest[0] += 1
        if self.process is not None:
            self.process.request_stop()

    def _deliver(self, request_id: int, result: object) -> None:
        if request_id == self._latest[0]:
            self._route(result)

    def _route(self, result: object) -> None:
        raise NotImplementedError

    def _deliver_failure(self, request_id: int, path: Path, reason: str) -> None:
        if request_id == self._latest[0]:
            self.failed.emit(path, reason)

    def shutdown(self) -> None:
        """End the process, then the thread (window closing): at once, nothing to save."""
        self.cancel()
        if self.process is not None:
            self.process.close()  # first: releases the thread if it waits for the child
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(2_000)


class SpectrogramLoader(_LatestRequestRunner):
    """Computes display spectrograms off the GUI; only the latest request is delivered.

    :meth:`request` loads a whole recording (:attr:`loaded`); :meth:`request_detail` a span of
    it at full resolution (:attr:`detail_loaded`); :meth:`request_linear` a span's
    linear-frequency spectrogram at screen resolution (:attr:`linear_loaded`).
    """

    loaded = Signal(object)  # LoadedSpectrogram
    detail_loaded = Signal(object)  # LoadedDetail
    linear_loaded = Signal(object)  # LoadedLinear
    process: ComputeProcess  # started with the loader (its warm-up begins at once)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__("spectrogram", initializer=warm_up, parent=parent)

    def request(self, path: Path, *, time_expansion: float | None = None) -> None:
        self._submit(path, spectrogram_job, (time_expansion,))

    def request_detail(
        self, path: Path, first_frame: int, stop_frame: int, *, time_expansion: float | None = None
    ) -> None:
        self._submit(path, detail_job, (time_expansion, first_frame, stop_frame))

    def request_linear(
        self,
        path: Path,
        start_s: float,
        end_s: float,
        max_columns: int,
        *,
        time_expansion: float | None = None,
    ) -> None:
        self._submit(path, linear_job, (time_expansion, start_s, end_s, max_columns))

    def _route(self, result: object) -> None:
        if isinstance(result, LoadedDetail):
            self.detail_loaded.emit(result)
        elif isinstance(result, LoadedLinear):
            self.linear_loaded.emit(result)
        else:
            self.loaded.emit(result)


class _DownloadWorker(QObject):
    progress = Signal(int, int, str)  # bytes done, bytes total (0: unknown), what
    finished = Signal(int, str)  # 0 ok / 1 failed / 2 cancelled, message

    def __init__(self, dest: Path, base_url: str) -> None:
        super().__init__()
        self.dest, self.base_url = dest, base_url
        self.stop_requested = threading.Event()

    @Slot()
    def run(self) -> None:
        label = ""
        try:
            for event in download_model_set(
                self.dest, self.base_url, should_stop=self.stop_requested.is_set
            ):
                if isinstance(event, FileStarted):
                    label = f"{event.name} ({event.index + 1} of {event.count})"
                elif isinstance(event, BytesReceived):
                    self.progress.emit(event.done_bytes, event.total_bytes or 0, label)
                elif isinstance(event, FileInstalled):
                    self.progress.emit(1, 1, f"{event.name}: verified")
        except DownloadError as exc:
            self.finished.emit(1, str(exc))
            return
        except Exception as exc:  # a bug must reach the user as a message, not a silent thread
            log.exception("model download failed")
            self.finished.emit(1, f"internal error: {exc}")
            return
        if self.stop_requested.is_set():
            self.finished.emit(2, "Download cancelled; it resumes where it stopped next time.")
        else:
            self.finished.emit(0, f"Model set installed in {self.dest}")


class _OneShotThread(QObject):
    """One worker at a time in its own QThread, its signals relayed; stoppable between steps.

    The worker has a ``run`` slot, a ``finished`` signal and a ``stop_requested`` event.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: Any = None

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def _launch(self, worker: Any, name: str, relays: tuple[str, ...]) -> None:
        self._thread, self._worker = run_in_thread(worker, name, self, relays), worker

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.stop_requested.set()

    def _shutdown(self, timeout_ms: int) -> None:
        self.cancel()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(timeout_ms)


class ModelDownloader(_OneShotThread):
    """Downloads the model set in a QThread (network and hashing; the GIL is mostly free)."""

    progress = Signal(int, int, str)
    finished = Signal(int, str)  # 0 ok / 1 failed / 2 cancelled, message

    def start(self, dest: Path, base_url: str) -> None:
        if not self.is_running:
            self._launch(_DownloadWorker(dest, base_url), "model-download",
                         ("progress", "finished"))  # fmt: skip

    def shutdown(self) -> None:
        self._shutdown(30_000)


class _GuanoWorker(QObject):
    file_done = Signal(object, str, str)  # path, new content SHA-256 ("" on failure), error
    finished = Signal()

    def __init__(self, updates: Sequence[GuanoUpdate]) -> None:
        super().__init__()
        self.updates = list(updates)
        self.stop_requested = threading.Event()

    @Slot()
    def run(self) -> None:
        results = write_guano_updates(self.updates)
        try:
            for result in results:
                self.file_done.emit(result.path, result.sha256, result.error)
                if self.stop_requested.is_set():
                    break
        except Exception as exc:  # a bug must reach the user as a message
            log.exception("GUANO write-back failed")
            self.file_done.emit(Path(), "", f"internal error: {exc}")
        self.finished.emit()


class GuanoWriter(_OneShotThread):
    """Writes reviewed species into WAV files' GUANO from a QThread (each file is copied, so a
    large one takes seconds). The receiver records the new content hash in the review store."""

    file_done = Signal(object, str, str)  # path, sha256 ("" on failure), error
    finished = Signal()

    def start(self, updates: Sequence[GuanoUpdate]) -> None:
        if not self.is_running:
            self._launch(_GuanoWorker(updates), "guano-write", ("file_done", "finished"))

    def shutdown(self) -> None:
        """Stop after the file being written (never mid-file: each write is all-or-nothing)."""
        self._shutdown(60_000)


class _ReportWorker(QObject):
    finished = Signal(str)  # "" when written, else the reason (one line)

    def __init__(self, survey: Survey, sample: VerificationSample | None, title: str,
                 out: Path, positions: Mapping[str, Position]) -> None:  # fmt: skip
        super().__init__()
        self.survey, self.sample, self.title, self.out = survey, sample, title, out
        self.positions = dict(positions)
        self.stop_requested = threading.Event()  # one step: nothing to stop between

    @Slot()
    def run(self) -> None:
        try:
            report = survey_report(
                self.survey, recording_rows(self.survey), title=self.title, sample=self.sample,
                positions=self.positions,
            )  # fmt: skip
            write_report(self.out, report)
        except OSError as exc:
            self.finished.emit(f"cannot write {self.out}: {exc.strerror or exc}")
            return
        except Exception as exc:  # a bug must reach the user as a message
            log.exception("the survey report failed")
            self.finished.emit(f"internal error: {exc}")
            return
        self.finished.emit("")


class ReportWriter(_OneShotThread):
    """Builds and writes the survey report (File → Export report…) from a QThread: a season's
    numbers take seconds."""

    finished = Signal(str)  # "" when written, else the reason

    def start(
        self, survey: Survey, sample: VerificationSample | None, title: str, out: Path,
        positions: Mapping[str, Position],
    ) -> None:  # fmt: skip
        if not self.is_running:
            worker = _ReportWorker(survey, sample, title, out, positions)
            self._launch(worker, "survey-report", ("finished",))

    def shutdown(self) -> None:
        """Wait for a report being written (it is written whole or not at all)."""
        self._shutdown(30_000)


class _RecombineWorker(QObject):
    block_done = Signal(int, int, str, object)  # generation, block index, method, probabilities
    progress = Signal(int, int)  # recordings done, of
    finished = Signal(str)  # "" when every block was recombined, else why not (one line)

    def __init__(self, store_path: Path, wanted: Recombination) -> None:
        super().__init__()
        self.store_path, self.wanted = store_path, wanted
        self.stop_requested = threading.Event()

    @Slot()
    def run(self) -> None:
        wanted, done, failed = self.wanted, 0, 0
        try:
            store = ReviewStore.open(self.store_path, exclusive=False)
        except StoreError as exc:
            self.finished.emit(str(exc))
            return
        try:
            for block in wanted.blocks:
                if self.stop_requested.is_set():
                    break
                probabilities = recombine_block(block, wanted.method, store.stored_logits)
                if probabilities is None:
                    failed += len(block.paths)
                else:
                    self.block_done.emit(wanted.generation, block.index, wanted.method,
                                         probabilities)  # fmt: skip
                done += len(block.paths)
                self.progress.emit(done, wanted.n_recordings)
        except (sqlite3.Error, OSError) as exc:
            self.finished.emit(f"cannot read {self.store_path}: {exc}")
            return
        except Exception as exc:  # a bug must reach the user as a message
            log.exception("recombining the stored analyses failed")
            self.finished.emit(f"internal error: {exc}")
            return
        finally:
            store.close()
        self.finished.emit(
            f"{failed} recordings' analyses changed in the store; reopen the folder to read them"
            if failed
            else ""
        )


class Recombiner(_OneShotThread):
    """Reads the logits of the blocks the window holds only as probabilities from the review
    store and combines them by another method, in a QThread (a season's are ~500 MB: seconds);
    a block's new probabilities arrive whole, one signal per block."""

    block_done = Signal(int, int, str, object)
    progress = Signal(int, int)
    finished = Signal(str)

    def start(self, store_path: Path, wanted: Recombination) -> None:
        if not self.is_running:
            self._launch(_RecombineWorker(store_path, wanted), "recombine",
                         ("block_done", "progress", "finished"))  # fmt: skip

    def shutdown(self) -> None:
        """Stop after the block being read."""
        self._shutdown(10_000)


class _FiguresWorker(QObject):
    finished = Signal(int, object, str)  # request id, NightActivity (None on failure), problem

    def __init__(self, request: int, survey: Survey, positions: Mapping[str, Position]) -> None:
        super().__init__()
        self.request, self.survey, self.positions = request, survey, dict(positions)
        self.stop_requested = threading.Event()  # one step: nothing to stop between

    @Slot()
    def run(self) -> None:
        try:
            activity = night_activity(recording_rows(self.survey), self.positions)
        except Exception as exc:  # a bug must reach the user as a message
            log.exception("the survey figures failed")
            self.finished.emit(self.request, None, f"internal error: {exc}")
            return
        self.finished.emit(self.request, activity, "")


class FiguresComputer(_OneShotThread):
    """Computes the survey figures' numbers (every detection's row, sun times) from a QThread:
    a large survey's take seconds. Each start has an id; the caller keeps the latest."""

    finished = Signal(int, object, str)

    def start(self, request: int, survey: Survey, positions: Mapping[str, Position]) -> None:
        if not self.is_running:
            worker = _FiguresWorker(request, survey, positions)
            self._launch(worker, "survey-figures", ("finished",))

    def shutdown(self) -> None:
        self._shutdown(30_000)


class _PlaybackWorker(QObject):
    ready = Signal(int, object)  # request id, Playable
    failed = Signal(int, str)

    @Slot(int, object, float, float, object)
    def prepare(
        self, request_id: int, info: RecordingInfo, start_s: float, end_s: float,
        settings: PlaybackSettings,
    ) -> None:  # fmt: skip
        try:
            self.ready.emit(request_id, prepare_playback(info, start_s, end_s, settings))
        except RecordingError as exc:
            self.failed.emit(request_id, str(exc))
        except Exception as exc:  # a bug must reach the user as a message
            log.exception("playback preparation failed")
            self.failed.emit(request_id, f"internal error: {exc}")


class PlaybackPreparer(QObject):
    """Reads and processes the sound to play (filtering, expansion, resampling) in a QThread;
    a newer request makes older results stale (dropped by their id)."""

    ready = Signal(object)  # Playable
    failed = Signal(str)
    _request = Signal(int, object, float, float, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._latest = 0
        self._thread = QThread()
        self._thread.setObjectName("playback-prepare")
        self._worker = _PlaybackWorker()
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.prepare)
        self._worker.ready.connect(self._deliver)
        self._worker.failed.connect(self._deliver_failure)
        self._thread.start()

    def request(
        self, info: RecordingInfo, start_s: float, end_s: float, settings: PlaybackSettings
    ) -> None:
        self._latest += 1
        self._request.emit(self._latest, info, start_s, end_s, settings)

    def cancel(self) -> None:
        self._latest += 1  # whatever is being prepared is no longer wanted

    def _deliver(self, request_id: int, playable: object) -> None:
        if request_id == self._latest:
            self.ready.emit(playable)

    def _deliver_failure(self, request_id: int, reason: str) -> None:
        if request_id == self._latest:
            self.failed.emit(reason)

    def shutdown(self) -> None:
        self.cancel()
        self._thread.quit()
        self._thread.wait(30_000)


class CallMeasurer(_LatestRequestRunner):
    """Measures the calls of the shown recording in a compute process of its own, started on
    first use (a window that never measures calls never pays for it); only the latest request
    is delivered: a recording left behind is not measured to the end.
    """

    progressed = Signal(object)  # CallsProgress
    measured = Signal(object)  # CallsMeasured

    def __init__(self, parent: QObject | None = None) -> None:
        # Below the spectrograms' priority: the view the reviewer moves through never waits
        # for a measurement (the calls arrive a moment later instead).
        super().__init__("calls", niceness=ANALYSIS_NICENESS, start_now=False, parent=parent)

    def request(
        self,
        path: Path,
        time_expansion: float | None,
        settings: CallSettings,
        store_path: Path | None = None,
    ) -> None:
        """Measure the calls of ``path`` (dropping any measurement in flight), kept in the
        review store at ``store_path`` by the measuring process."""
        self._submit(path, calls_job, (time_expansion, settings, store_path))

    def _route(self, result: object) -> None:
        if isinstance(result, CallsMeasured):
            self.measured.emit(result)
        else:
            self.progressed.emit(result)
