"""Detection events: runs of consecutive segments in which a species reaches its threshold.

The rule (one function, used by the window, ``analyze --detections`` and every export):

* a species is *detected* in a segment when its combined probability is **≥** its threshold;
* a run of consecutive detected segments, in window order (the tail window last), is one
  **event**: from the first window's start to the last window's end, with the maximum and mean
  probability over the run and its number of segments;
* an undetected segment ends the run, even though windows two apart still overlap by 24 ms;
* Background has a threshold (its track shows it) but is never a detection species.

Events are returned as columns (numpy arrays), not one object per event: a 60-minute recording
has 7,200 segments and may have thousands of events, and the window recomputes them on every
threshold drag. Several recordings can be processed in one call: ``run_breaks`` marks the first
segment of each recording, so that no run crosses from one recording into the next.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.model_card import BACKGROUND_LABEL

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from bsgbat_gui.core.analysis.analyse import RecordingAnalysis
    from bsgbat_gui.core.audio.segments import SegmentWindow
    from bsgbat_gui.core.models.ensemble import CombineMethod

FloatArray = npt.NDArray[np.float64]
FloatArray32 = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class DetectionEvents:
    """Events as parallel columns, ordered by label index, then by first segment.

    ``first_segment`` / ``last_segment`` index rows of the probabilities the events were found
    in (inclusive). ``start_s`` / ``end_s`` are filled by :func:`detection_events` from the
    windows; :func:`find_runs` leaves them NaN.
    """

    label_index: IntArray
    first_segment: IntArray
    last_segment: IntArray
    max_prob: FloatArray
    mean_prob: FloatArray
    start_s: FloatArray
    end_s: FloatArray

    @property
    def n_segments(self) -> IntArray:
        """Segments per event."""
        return self.last_segment - self.first_segment + 1

    def __len__(self) -> int:
        return len(self.label_index)

    def take(self, rows: IntArray | BoolArray) -> DetectionEvents:
        """The events selected by ``rows`` (indices or a mask), in that order."""
        return DetectionEvents(
            label_index=self.label_index[rows],
            first_segment=self.first_segment[rows],
            last_segment=self.last_segment[rows],
            max_prob=self.max_prob[rows],
            mean_prob=self.mean_prob[rows],
            start_s=self.start_s[rows],
            end_s=self.end_s[rows],
        )


def detectable_labels(labels: Sequence[str]) -> BoolArray:
    """Which labels can be detected: every species, never Background."""
    return np.array([label != BACKGROUND_LABEL for label in labels], dtype=bool)


def find_runs(
    probabilities: npt.ArrayLike,
    thresholds: npt.ArrayLike,
    detectable: npt.ArrayLike,
    *,
    run_breaks: npt.ArrayLike | None = None,
) -> DetectionEvents:
    """Runs of detected segments per label (see the module docstring for the rule).

    Parameters
    ----------
    probabilities
        ``[n_segments, n_labels]`` combined probabilities, rows in window order.
    thresholds
        ``[n_labels]`` probability thresholds (detected when ``p >= threshold``).
    detectable
        ``[n_labels]`` bools: labels that may form events (False for Background).
    run_breaks
        Optional ``[n_segments]`` bools: True where a new recording starts; no run crosses it.
    """
    p = np.asarray(probabilities)
    if p.ndim != 2:
        raise ValueError(f"probabilities must be [n_segments, n_labels], got shape {p.shape}")
    n_segments, n_labels = p.shape
    # Compared at the probabilities' own precision (float32 from the models): a threshold of
    # 0.7 then includes a probability that is float32(0.7), shown and exported as 0.700000.
    compare_dtype = p.dtype if np.issubdtype(p.dtype, np.floating) else np.dtype(np.float64)
    thr = np.asarray(thresholds, dtype=np.float64).astype(compare_dtype)
    can_detect = np.asarray(detectable, dtype=bool)
    if thr.shape != (n_labels,) or can_detect.shape != (n_labels,):
        raise ValueError(f"thresholds and detectable must have {n_labels} entries")
    # Label-major: nonzero() then walks label by label, and within a label in segment order.
    detected = np.greater_equal(p.T, thr[:, None]) & can_detect[:, None]  # [labels, segments]
    starts_run = detected.copy()
    ends_run = detected.copy()
    if n_segments > 1:
        # linked[:, k]: segments k and k + 1 belong to the same run.
        linked = detected[:, :-1] & detected[:, 1:]
        if run_breaks is not None:
            breaks = np.asarray(run_breaks, dtype=bool)
            if breaks.shape != (n_segments,):
                raise ValueError(f"run_breaks must have {n_segments} entries")
            linked &= ~breaks[None, 1:]
        starts_run[:, 1:] &= ~linked
        ends_run[:, :-1] &= ~linked
    label_index, first = np.nonzero(starts_run)
    _, last = np.nonzero(ends_run)  # the same runs, in the same order
    if len(label_index) == 0:
        empty_f = np.empty(0, np.float64)
        empty_i = np.empty(0, np.intp)
        return DetectionEvents(empty_i, empty_i, empty_i, empty_f, empty_f, empty_f, empty_f)
    # The detected values, label-major, are the runs laid end to end: reduce each stretch.
    values = p.T[detected].astype(np.float64)
    lengths = last - first + 1
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    max_prob = np.maximum.reduceat(values, offsets)
    mean_prob = np.add.reduceat(values, offsets) / lengths
    nan = np.full(len(first), np.nan)
    return DetectionEvents(
        label_index.astype(np.intp),
        first.astype(np.intp),
        last.astype(np.intp),
        max_prob,
        mean_prob,
        nan,
        nan.copy(),
    )


def window_bounds(windows: Sequence[SegmentWindow]) -> tuple[FloatArray, FloatArray]:
    """Start and end (real seconds) of each window, as arrays."""
    starts = np.fromiter((w.start_s for w in windows), np.float64, len(windows))
    ends = np.fromiter((w.end_s for w in windows), np.float64, len(windows))
    return starts, ends


def detection_events(
    probabilities: npt.ArrayLike,
    windows: Sequence[SegmentWindow],
    thresholds: npt.ArrayLike,
    labels: Sequence[str],
) -> DetectionEvents:
    """The events of one recording: :func:`find_runs` plus each event's span in real seconds,
    from its first window's start to its last window's end.
    """
    events = find_runs(probabilities, thresholds, detectable_labels(labels))
    starts, ends = window_bounds(windows)
    return _with_times(events, starts, ends)


def _with_times(events: DetectionEvents, starts: FloatArray, ends: FloatArray) -> DetectionEvents:
    return DetectionEvents(
        events.label_index,
        events.first_segment,
        events.last_segment,
        events.max_prob,
        events.mean_prob,
        starts[events.first_segment],
        ends[events.last_segment],
    )


def detection_events_of_many(
    probabilities: npt.ArrayLike,
    segment_starts_s: npt.ArrayLike,
    segment_ends_s: npt.ArrayLike,
    run_breaks: npt.ArrayLike,
    thresholds: npt.ArrayLike,
    labels: Sequence[str],
) -> DetectionEvents:
    """The events of several recordings whose segments are stacked in one array.

    ``run_breaks`` is True at each recording's first segment; ``segment_starts_s`` /
    ``segment_ends_s`` hold every stacked window's span within its own recording.
    """
    events = find_runs(probabilities, thresholds, detectable_labels(labels), run_breaks=run_breaks)
    return _with_times(
        events,
        np.asarray(segment_starts_s, dtype=np.float64),
        np.asarray(segment_ends_s, dtype=np.float64),
    )


@dataclass(frozen=True)
class SurveyDetections:
    """The events of every analysed recording of a survey, found in one call.

    ``recording_index[i]`` says which of ``paths`` event ``i`` belongs to.
    """

    events: DetectionEvents
    recording_index: IntArray
    paths: tuple[Path, ...]

    def of_recording(self, path: Path) -> DetectionEvents:
        """The events of one recording (none when it is not in the survey)."""
        try:
            index = self.paths.index(path)
        except ValueError:
            return self.events.take(np.zeros(len(self.events), dtype=bool))
        return self.events.take(self.recording_index == index)

    def species_by_recording(self, labels: Sequence[str]) -> dict[Path, tuple[str, ...]]:
        """Each recording's detected labels (in label order); recordings without events: ()."""
        present = np.zeros((len(self.paths), len(labels)), dtype=bool)
        present[self.recording_index, self.events.label_index] = True
        found: dict[Path, tuple[str, ...]] = dict.fromkeys(self.paths, ())
        recordings, label_index = np.nonzero(present)  # row-major: each recording's in order
        if len(recordings):
            starts = np.flatnonzero(np.diff(recordings, prepend=-1))
            for first, stop in zip(starts, [*starts[1:], len(recordings)], strict=True):
                found[self.paths[int(recordings[first])]] = tuple(
                    labels[int(j)] for j in label_index[first:stop]
                )
        return found


class StackedAnalyses:
    """Analyses of many recordings with their combined probabilities stacked in one array, so that
    a threshold change finds every recording's events in one vectorised call.

    Combined probabilities are computed once per recording and combine method (each analysis
    keeps them); changing the method recombines the stored per-model logits (no inference).
    """

    def __init__(self, combine: CombineMethod = "mean") -> None:
        self._combine: CombineMethod = combine
        self._analyses: dict[Path, RecordingAnalysis] = {}
        self._bounds: dict[Path, tuple[FloatArray, FloatArray]] = {}  # windows' starts, ends
        self._stack: _Stack | None = None
        self.labels: tuple[str, ...] = ()

    @property
    def combine(self) -> CombineMethod:
        """The combine method the stacked probabilities are for."""
        return self._combine

    def __len__(self) -> int:
        return len(self._analyses)

    def __contains__(self, path: object) -> bool:
        return path in self._analyses

    def analyses(self) -> list[RecordingAnalysis]:
        """Every analysis held, in the order added."""
        return list(self._analyses.values())

    def add(self, analysis: RecordingAnalysis) -> None:
        """Add (or replace) a recording's analysis. An analysis whose labels differ from the
        ones held (another model set) replaces everything held.
        """
        if analysis.labels != self.labels:
            self.clear()
            self.labels = analysis.labels
        path = analysis.info.path
        self._analyses[path] = analysis
        # Computed once per analysis, not at every restack (one per burst of analyses).
        self._bounds[path] = window_bounds(analysis.windows)
        self._stack = None

    def clear(self) -> None:
        """Forget every analysis (another folder opened)."""
        self._analyses.clear()
        self._bounds.clear()
        self._stack = None
        self.labels = ()

    def set_combine(self, method: CombineMethod) -> None:
        """Restack for another combine method (no inference: the logits are kept)."""
        if method == self._combine:
            return
        self._combine = method
        if self._stack is not None and self._stack.paths:
            # Only the probabilities change; the windows' spans and the boundaries stay.
            probabilities = _stacked_probabilities(self._analyses, self._stack.paths, method)
            self._stack = replace(self._stack, probabilities=probabilities)

    def event_count(self, label: str, threshold: float) -> int:
        """How many events ``label`` would have at ``threshold``. Only that label's runs are
        found (every other label at an unreachable threshold): one label's events do not depend
        on the others', and finding all of them per question would cost a full detection pass.
        """
        if label not in self.labels:
            return 0
        only = np.full(len(self.labels), np.inf)
        only[self.labels.index(label)] = threshold
        return len(self.detections(only).events.label_index)

    def detections(self, thresholds: npt.ArrayLike) -> SurveyDetections:
        """Every held recording's events at ``thresholds`` (in :attr:`labels` order)."""
        stack = self._stack
        if stack is None:
            stack = self._stack = _Stack.of(self._analyses, self._bounds, self._combine)
        if not stack.paths:
            events = find_runs(np.zeros((0, 0), np.float32), [], [])
            return SurveyDetections(events, np.empty(0, np.intp), ())
        events = detection_events_of_many(
            stack.probabilities, stack.starts, stack.ends, stack.breaks, thresholds, self.labels
        )
        return SurveyDetections(events, stack.recording[events.first_segment], stack.paths)


@dataclass(frozen=True)
class _Stack:
    paths: tuple[Path, ...]
    probabilities: FloatArray32
    starts: FloatArray
    ends: FloatArray
    breaks: BoolArray
    recording: IntArray  # segment -> index into paths

    @staticmethod
    def of(
        analyses: Mapping[Path, RecordingAnalysis],
        bounds_of: Mapping[Path, tuple[FloatArray, FloatArray]],
        combine: CombineMethod,
    ) -> _Stack:
        paths = tuple(analyses)
        if not paths:
            empty = np.empty(0)
            return _Stack(
                (),
                np.zeros((0, 0), np.float32),
                empty,
                empty,
                empty.astype(bool),
                empty.astype(np.intp),
            )
        bounds = [bounds_of[p] for p in paths]
        counts = [len(analyses[p].windows) for p in paths]
        breaks = np.zeros(sum(counts), dtype=bool)
        breaks[np.concatenate([[0], np.cumsum(counts)[:-1]])] = True
        return _Stack(
            paths,
            _stacked_probabilities(analyses, paths, combine),
            np.concatenate([b[0] for b in bounds]),
            np.concatenate([b[1] for b in bounds]),
            breaks,
            np.repeat(np.arange(len(paths), dtype=np.intp), counts),
        )


def _stacked_probabilities(
    analyses: Mapping[Path, RecordingAnalysis], paths: Sequence[Path], combine: CombineMethod
) -> FloatArray32:
    # Each analysis computes (and keeps) its probabilities per method once.
    return np.concatenate([analyses[p].probabilities(combine) for p in paths])
