"""From recordings to per-segment, per-model logits: the one pipeline the CLI and the GUI drive.

Long work is a generator: it yields progress and results and checks ``should_stop`` between
batches, so a caller (``analyze`` on the command line, the GUI's worker thread) can show progress
and cancel without the core knowing about terminals or threads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.audio.recording import (
    ModelRateSignal,
    RecordingError,
    RecordingInfo,
    probe_recording,
)
from bsgbat_gui.core.audio.segments import SegmentWindow, normalise_segment, segment_windows
from bsgbat_gui.core.audio.spectrogram import frame_count, log_mel_frames
from bsgbat_gui.core.model_card import SEGMENT_FRAMES
from bsgbat_gui.core.models.ensemble import CombineMethod, Ensemble, combine_logits, sigmoid
from bsgbat_gui.core.models.quantize import random_inputs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]
DEFAULT_BATCH_SIZE = 16


@dataclass(frozen=True)
class RecordingAnalysis:
    """The models' output for one recording. Immutable: safe to hand across threads."""

    info: RecordingInfo
    windows: tuple[SegmentWindow, ...]
    per_model_logits: FloatArray  # [n_models, n_segments, n_classes]
    labels: tuple[str, ...]
    model_names: tuple[str, ...]
    # Probabilities per combine method, computed once: the tracks, the detection events and the
    # exports all ask for them, and the window on every change of method.
    _probabilities: dict[str, FloatArray] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def combined_logits(self, method: CombineMethod = "mean") -> FloatArray:
        """[n_segments, n_classes] logits combined over models."""
        return combine_logits(self.per_model_logits, method)

    def probabilities(self, method: CombineMethod = "mean") -> FloatArray:
        """[n_segments, n_classes] probabilities: sigmoid of the combined logits (read-only)."""
        cached = self._probabilities.get(method)
        if cached is None:
            cached = sigmoid(self.combined_logits(method))
            cached.flags.writeable = False  # shared between callers
            self._probabilities[method] = cached
        return cached


@dataclass(frozen=True)
class RecordingStarted:
    """A recording was opened: what it is and how many windows it has."""

    index: int
    path: Path
    info: RecordingInfo
    n_segments: int


@dataclass(frozen=True)
class SegmentsAnalysed:
    """Progress within a recording: windows analysed so far of its total."""

    index: int
    path: Path
    done: int
    total: int


@dataclass(frozen=True)
class RecordingAnalysed:
    """A recording's analysis is complete (or came from the cache)."""

    index: int
    analysis: RecordingAnalysis
    from_cache: bool = False  # found in a review store: no model was run


@dataclass(frozen=True)
class RecordingFailed:
    """A recording could not be analysed, with the one-line reason."""

    index: int
    path: Path
    reason: str


AnalysisEvent = RecordingStarted | SegmentsAnalysed | RecordingAnalysed | RecordingFailed


class AnalysisCache(Protocol):
    """Where earlier analyses are kept (a review store): looked up before running the models,
    told about every new analysis.
    """

    def lookup(self, info: RecordingInfo) -> RecordingAnalysis | None:
        """The stored analysis of ``info``'s file, if still valid."""

    def keep(self, analysis: RecordingAnalysis) -> None:
        """Store ``analysis`` for next time."""


def _never_stop() -> bool:
    return False


def windows_for(info: RecordingInfo) -> list[SegmentWindow]:
    """The model windows of a recording (the card's grid, plus the tail or padded window)."""
    return windows_of(info.model_rate_frames, info.duration_s)


def windows_of(model_rate_frames: int, duration_s: float) -> list[SegmentWindow]:
    """The model windows of a recording of ``model_rate_frames`` samples at the model's rate
    lasting ``duration_s`` real seconds (all :func:`windows_for` reads of its header).
    """
    return segment_windows(frame_count(model_rate_frames), duration_s=duration_s)


def iter_model_inputs(
    signal: ModelRateSignal,
    windows: list[SegmentWindow],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[tuple[list[SegmentWindow], FloatArray]]:
    """Batches of model input, ``[B, 1, 512, 128]`` float32, in window order.

    The log-mel frames of a batch are computed once for the span its windows cover, then each
    window is sliced out and normalised on its own.
    """
    for first in range(0, len(windows), batch_size):
        batch_windows = windows[first : first + batch_size]
        span_start = min(w.start_frame for w in batch_windows)
        span_stop = max(w.start_frame for w in batch_windows) + SEGMENT_FRAMES
        log_mel = log_mel_frames(signal, span_start, span_stop)
        batch = np.empty((len(batch_windows), 1, SEGMENT_FRAMES, log_mel.shape[1]), np.float32)
        for i, window in enumerate(batch_windows):
            offset = window.start_frame - span_start
            batch[i, 0] = normalise_segment(log_mel[offset : offset + SEGMENT_FRAMES])
        yield batch_windows, batch


def analyse_recording(
    info: RecordingInfo,
    ensemble: Ensemble,
    *,
    index: int = 0,
    windows: list[SegmentWindow] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    should_stop: Callable[[], bool] = _never_stop,
) -> Iterator[SegmentsAnalysed | RecordingAnalysed]:
    """Run the ensemble over one recording, yielding progress after each batch, then the result.

    ``windows`` limits the analysis to some of the recording's windows (default: all of them).
    Stops (yielding no result) as soon as ``should_stop()`` is true between batches.

    Raises
    ------
    RecordingError
        When the audio cannot be read part-way through.
    """
    if windows is None:
        windows = windows_for(info)
    logits = np.empty((ensemble.n_models, len(windows), ensemble.n_classes), np.float32)
    done = 0
    with ModelRateSignal(info) as signal:
        for batch_windows, batch in iter_model_inputs(signal, windows, batch_size=batch_size):
            if should_stop():
                return
            logits[:, done : done + len(batch_windows)] = ensemble.run(batch)
            done += len(batch_windows)
            yield SegmentsAnalysed(index=index, path=info.path, done=done, total=len(windows))
    yield RecordingAnalysed(
        index=index,
        analysis=RecordingAnalysis(
            info=info,
            windows=tuple(windows),
            per_model_logits=logits,
            labels=ensemble.labels,
            model_names=tuple(m.name for m in ensemble.models),
        ),
    )


def reference_windows(paths: Sequence[Path], n_random: int, limit: int = 256) -> np.ndarray:
    """Model inputs from recordings (up to ``limit`` windows) plus ``n_random`` random ones:
    what ``models quantize`` calibrates and validates an INT8 copy on.
    """
    chunks: list[np.ndarray] = []
    total = 0
    for path in paths:
        try:
            info = probe_recording(path)
            with ModelRateSignal(info) as signal:
                for _, batch in iter_model_inputs(signal, windows_for(info)):
                    chunks.append(batch)
                    total += len(batch)
                    if total >= limit:
                        break
        except RecordingError:
            continue
        if total >= limit:
            break
    chunks.append(random_inputs(n_random))
    return np.concatenate(chunks)[: limit + n_random]
