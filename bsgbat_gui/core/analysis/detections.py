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

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.model_card import BACKGROUND_LABEL

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from bsgbat_gui.core.audio.segments import SegmentWindow

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
    # Path -> its index into paths (a replaced recording's live one), when the caller has it:
    # a season holds 100,000 paths, and paths.index() compares them one by one.
    index: Mapping[Path, int] | None = None

    def index_of(self, path: Path) -> int | None:
        """The index of ``path`` in :attr:`paths` (None when it is not in the survey)."""
        if self.index is not None:
            return self.index.get(path)
        try:
            return self.paths.index(path)
        except ValueError:
            return None

    def __contains__(self, path: object) -> bool:
        return self.index_of(path) is not None  # type: ignore[arg-type]

    def of_recording(self, path: Path) -> DetectionEvents:
        """The events of one recording (none when it is not in the survey)."""
        index = self.index_of(path)
        if index is None:
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
