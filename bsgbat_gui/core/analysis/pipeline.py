"""Analysing many recordings with the models always busy: reading and spectrograms in a
producer thread, inference in the caller's, batches shared across short files.

Why: a survey night is thousands of triggered files of a few seconds each. Run one after another,
the models wait while each file is read, resampled and turned into a spectrogram, and each file's
few windows make a small batch. Here a producer thread prepares model inputs (ONNX Runtime and
most numpy/librosa work release the GIL) into a small bounded queue, packing the windows of
consecutive files into full batches, while the caller's thread runs the ensemble. Memory stays
bounded: at most :data:`QUEUE_BATCHES` batches wait, whatever the files' lengths.

Events are those of :mod:`bsgbat_gui.core.analysis.analyse`, in file order: ``RecordingStarted``,
``SegmentsAnalysed`` (progress), then ``RecordingAnalysed`` or ``RecordingFailed``.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bsgbat_gui.core.analysis.analyse import (
    DEFAULT_BATCH_SIZE,
    AnalysisCache,
    AnalysisEvent,
    RecordingAnalysed,
    RecordingAnalysis,
    RecordingFailed,
    RecordingStarted,
    SegmentsAnalysed,
    _never_stop,
    iter_model_inputs,
    windows_for,
)
from bsgbat_gui.core.audio.recording import (
    ModelRateSignal,
    RecordingError,
    RecordingInfo,
    probe_recording,
)
from bsgbat_gui.core.models.ensemble import Ensemble
from bsgbat_gui.core.models.locate import ModelSetError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

    from bsgbat_gui.core.audio.segments import SegmentWindow

log = logging.getLogger(__name__)

QUEUE_BATCHES = 6  # prepared batches waiting for the models (each at most 16 x 256 KiB = 4 MiB)


@dataclass
class _Part:
    """Windows ``[offset, offset + count)`` of recording ``index`` inside a shared batch."""

    index: int
    offset: int
    count: int


@dataclass
class _Batch:
    parts: list[_Part]
    inputs: np.ndarray  # [B, 1, 512, 128]


@dataclass
class _Begin:
    index: int
    info: RecordingInfo
    windows: list[SegmentWindow]


@dataclass
class _Cached:
    index: int
    analysis: RecordingAnalysis


@dataclass
class _End:
    index: int


@dataclass
class _Failed:
    index: int
    path: Path
    reason: str


_Item = _Batch | _Begin | _Cached | _End | _Failed
_DONE = object()


class _LockedCache:
    """The cache used from both threads (lookups in the producer, saves in the consumer)."""

    def __init__(self, cache: AnalysisCache) -> None:
        self._cache = cache
        self._lock = threading.Lock()

    def lookup(self, info: RecordingInfo) -> RecordingAnalysis | None:
        with self._lock:
            return self._cache.lookup(info)

    def keep(self, analysis: RecordingAnalysis) -> None:
        with self._lock:
            self._cache.keep(analysis)


class _Producer:
    """Prepares model inputs for every recording, in order, into ``items``."""

    def __init__(
        self,
        paths: list[Path],
        time_expansion: float | None,
        batch_size: int,
        cache: _LockedCache | None,
        items: queue.Queue[object],
        stop: threading.Event,
    ) -> None:
        self.paths, self.time_expansion, self.batch_size = paths, time_expansion, batch_size
        self.cache, self.items, self.stop = cache, items, stop
        self._parts: list[_Part] = []
        self._arrays: list[np.ndarray] = []
        self._pending_ends: list[_End] = []

    def _put(self, item: object) -> bool:
        while not self.stop.is_set():
            try:
                self.items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _flush(self) -> bool:
        """Send the pending batch, then the ends of the recordings it completes."""
        if self._parts:
            batch = _Batch(self._parts, np.concatenate(self._arrays))
            self._parts, self._arrays = [], []
            if not self._put(batch):
                return False
        ends, self._pending_ends = self._pending_ends, []
        return all(self._put(end) for end in ends)

    def _drop(self, index: int) -> None:
        """Forget a failed recording's windows waiting in the pending batch."""
        keep = [k for k, part in enumerate(self._parts) if part.index != index]
        self._parts = [self._parts[k] for k in keep]
        self._arrays = [self._arrays[k] for k in keep]

    def run(self) -> None:
        try:
            for index, path in enumerate(self.paths):
                if self.stop.is_set():
                    return
                if not self._recording(index, path):
                    return
            self._flush()
        finally:
            self._put(_DONE)

    def _recording(self, index: int, path: Path) -> bool:
        try:
            info = probe_recording(path, time_expansion=self.time_expansion)
            windows = windows_for(info)
            cached = self.cache.lookup(info) if self.cache is not None else None
            # A cached or failed recording must not overtake windows still pending.
            if cached is not None:
                return (
                    self._flush()
                    and self._put(_Begin(index, info, windows))
                    and self._put(_Cached(index, cached))
                )
            if not self._put(_Begin(index, info, windows)):
                return False
            offset = 0
            with ModelRateSignal(info) as signal:
                for batch_windows, batch in iter_model_inputs(
                    signal, windows, batch_size=self.batch_size
                ):
                    if self.stop.is_set():
                        return False
                    start = 0
                    while start < len(batch_windows):
                        room = self.batch_size - sum(p.count for p in self._parts)
                        take = min(room, len(batch_windows) - start)
                        self._parts.append(_Part(index, offset, take))
                        self._arrays.append(batch[start : start + take])
                        offset += take
                        start += take
                        full = sum(p.count for p in self._parts) >= self.batch_size
                        if full and not self._flush():
                            return False
            if any(part.index == index for part in self._parts):
                self._pending_ends.append(_End(index))  # after its last windows are sent
                return True
            return self._put(_End(index))
        except RecordingError as exc:
            reason = str(exc)
        except MemoryError:
            reason = "out of memory while analysing"
        except Exception as exc:  # a bug must not take the rest of a night's files down
            log.exception("unexpected failure preparing %s", path)
            reason = f"internal error: {type(exc).__name__}: {exc}"
        self._drop(index)
        return self._flush() and self._put(_Failed(index, path, reason))


def analyse_recordings(
    paths: Iterable[Path],
    ensemble: Ensemble | Callable[[], Ensemble],
    *,
    time_expansion: float | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    cache: AnalysisCache | None = None,
    should_stop: Callable[[], bool] = _never_stop,
) -> Iterator[AnalysisEvent]:
    """Analyse recordings in order; a bad file yields :class:`RecordingFailed` and the rest go
    on. ``ensemble`` may be a function that loads it: then the models are loaded only if some
    recording is not in ``cache``. ``ModelSetError`` (the models cannot be loaded) is raised.
    """
    path_list = list(paths)
    items: queue.Queue[object] = queue.Queue(maxsize=QUEUE_BATCHES)
    stop = threading.Event()
    locked = _LockedCache(cache) if cache is not None else None
    producer = _Producer(path_list, time_expansion, batch_size, locked, items, stop)
    thread = threading.Thread(target=producer.run, name="analysis-inputs", daemon=True)
    thread.start()
    loaded: list[Ensemble] = []

    def get_ensemble() -> Ensemble:
        if not loaded:
            loaded.append(ensemble if isinstance(ensemble, Ensemble) else ensemble())
        return loaded[0]

    begun: dict[int, _Begin] = {}
    logits: dict[int, np.ndarray] = {}
    done: dict[int, int] = {}
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if should_stop():
                return
            if isinstance(item, _Begin):
                begun[item.index] = item
                yield RecordingStarted(item.index, item.info.path, item.info, len(item.windows))
            elif isinstance(item, _Cached):
                begun.pop(item.index, None)
                yield RecordingAnalysed(item.index, item.analysis, from_cache=True)
            elif isinstance(item, _Failed):
                begun.pop(item.index, None)
                logits.pop(item.index, None)
                yield RecordingFailed(item.index, item.path, item.reason)
            elif isinstance(item, _Batch):
                models = get_ensemble()
                out = models.run(item.inputs)
                row = 0
                for part in item.parts:
                    begin = begun[part.index]
                    target = logits.get(part.index)
                    if target is None:
                        target = logits[part.index] = np.empty(
                            (models.n_models, len(begin.windows), models.n_classes), np.float32
                        )
                    target[:, part.offset : part.offset + part.count] = out[
                        :, row : row + part.count
                    ]
                    row += part.count
                    done[part.index] = part.offset + part.count
                    yield SegmentsAnalysed(
                        part.index, begin.info.path, done[part.index], len(begin.windows)
                    )
            elif isinstance(item, _End):
                begin = begun.pop(item.index)
                models = get_ensemble()
                analysis = RecordingAnalysis(
                    info=begin.info,
                    windows=tuple(begin.windows),
                    per_model_logits=logits.pop(item.index),
                    labels=models.labels,
                    model_names=tuple(m.name for m in models.models),
                )
                if locked is not None:
                    locked.keep(analysis)
                yield RecordingAnalysed(item.index, analysis)
    except ModelSetError:
        raise
    finally:
        stop.set()
        thread.join(timeout=10)
