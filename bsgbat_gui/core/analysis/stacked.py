"""Every analysis of an open survey held as a few large arrays, so that a season of 100,000
recordings fits in memory and a threshold change finds all their events in one vectorised call.

Analyses arrive as blocks (:class:`AnalysisBlock`): one recording analysed now, or thousands
read from the review store in one query. A block keeps its windows' spans as two arrays; nothing
is held as one Python object per window or per recording (a season's ~900,000 windows as objects
were most of the window's 2 GB). The combined probabilities of every block are stacked in one
contiguous array, in the order the blocks came, for :func:`find_runs`.

A block analysed now keeps its per-model logits (one ``[n_models, segments, labels]`` array). A
block read from the store keeps **only its combined probabilities**: the six models' logits are
six times their size (a season's 530 MB) and stay in the store, read back for the one
recording shown (:meth:`StackedAnalyses.analysis_of`) and, when the combine method changes, by a
background pass (:meth:`StackedAnalyses.recombination_wanted`, :func:`recombine_block`) whose
results replace a block's probabilities whole.

A recording analysed again (its file changed) gets a new slot; its old one stays in the arrays,
marked dead, and its events are dropped — so adding never moves what is held.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.analysis.analyse import RecordingAnalysis, windows_for, windows_of
from bsgbat_gui.core.analysis.detections import (
    DetectionEvents,
    SurveyDetections,
    detectable_labels,
    detection_events_of_many,
    find_runs,
    window_bounds,
)
from bsgbat_gui.core.models.ensemble import combine_logits, sigmoid

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from bsgbat_gui.core.audio.recording import RecordingInfo
    from bsgbat_gui.core.models.ensemble import CombineMethod

FloatArray = npt.NDArray[np.float64]
FloatArray32 = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

# A threshold change of up to this many labels searches only their columns again.
MAX_LABELS_UPDATED_ALONE = 4


@dataclass(frozen=True)
class AnalysisBlock:
    """The analyses of several recordings (one model set) as columns.

    Recording ``k`` owns segments ``offsets[k]:offsets[k] + n_segments[k]`` of
    ``per_model_logits`` (second axis) and of the window spans. ``duration_s``,
    ``true_rate_hz`` and ``time_expansion`` are what the recordings table shows.

    A block read from the store has no ``per_model_logits`` (None) but ``combined``, its
    probabilities by the ``combine`` method, and the ``model_set_id`` its logits are kept
    under in the store.
    """

    paths: tuple[Path, ...]
    n_segments: IntArray
    window_starts_s: FloatArray
    window_ends_s: FloatArray
    per_model_logits: FloatArray32 | None  # [n_models, sum of n_segments, n_labels]
    labels: tuple[str, ...]
    model_names: tuple[str, ...]
    duration_s: FloatArray
    true_rate_hz: FloatArray
    time_expansion: FloatArray
    combined: FloatArray32 | None = None  # [sum of n_segments, n_labels], by ``combine``
    combine: CombineMethod | None = None
    model_set_id: str = ""

    @property
    def offsets(self) -> IntArray:
        """Each recording's first segment within the block."""
        return np.concatenate([[0], np.cumsum(self.n_segments)[:-1]]).astype(np.intp)

    def __len__(self) -> int:
        return len(self.paths)

    @staticmethod
    def of(analysis: RecordingAnalysis) -> AnalysisBlock:
        """One recording's analysis as a block (its logits shared, not copied)."""
        info = analysis.info
        starts, ends = window_bounds(analysis.windows)
        return AnalysisBlock(
            paths=(info.path,),
            n_segments=np.array([len(analysis.windows)], dtype=np.intp),
            window_starts_s=starts,
            window_ends_s=ends,
            per_model_logits=np.asarray(analysis.per_model_logits, dtype=np.float32),
            labels=analysis.labels,
            model_names=analysis.model_names,
            duration_s=np.array([info.duration_s]),
            true_rate_hz=np.array([float(info.true_rate_hz)]),
            time_expansion=np.array([info.time_expansion]),
        )


def window_bounds_of(info: RecordingInfo) -> tuple[FloatArray, FloatArray]:
    """The model windows' spans of a recording, from what its header says (read-only arrays,
    cached per length: a season's files come in a few lengths).
    """
    return _bounds(info.model_rate_frames, info.duration_s)


@lru_cache(maxsize=4096)
def _bounds(model_rate_frames: int, duration_s: float) -> tuple[FloatArray, FloatArray]:
    starts, ends = window_bounds(windows_of(model_rate_frames, duration_s))
    starts.flags.writeable = False
    ends.flags.writeable = False
    return starts, ends


@dataclass(frozen=True)
class _Slot:
    block: int
    first: int  # its first segment within the block
    n_segments: int
    stacked_first: int  # its first row in the stacked arrays


class StackedAnalyses:
    """The analyses of a survey (see the module's description)."""

    def __init__(self, combine: CombineMethod = "mean") -> None:
        self._combine: CombineMethod = combine
        self.labels: tuple[str, ...] = ()
        self.model_names: tuple[str, ...] = ()
        self.generation = 0
        self.clear()

    def clear(self) -> None:
        """Forget every analysis (another folder opened, another model set)."""
        self._blocks: list[AnalysisBlock] = []
        self._whole: dict[Path, RecordingAnalysis] = {}  # analyses given whole (run now)
        self._slots: list[_Slot] = []
        self._slot_paths: list[Path] = []
        self._slot_of: dict[Path, int] = {}  # the live slot of each path
        self._alive: list[bool] = []
        self._n_live = 0
        # The stacked arrays, per block, concatenated when asked for.
        self._probabilities: list[FloatArray32] = []  # per block
        self._methods: list[CombineMethod] = []  # per block: its probabilities' method
        self.generation += 1  # recombinations asked for before this are stale
        self._stack: _Stack | None = None
        self._segments = 0
        # The last detections: (stack, thresholds, result), for detections_after.
        self._last: tuple[_Stack, FloatArray, SurveyDetections] | None = None
        self.labels = ()
        self.model_names = ()

    @property
    def combine(self) -> CombineMethod:
        """The combine method the stacked probabilities are for."""
        return self._combine

    def __len__(self) -> int:
        return self._n_live

    def __contains__(self, path: object) -> bool:
        return path in self._slot_of

    @property
    def paths(self) -> list[Path]:
        """The recordings analysed, in the order their analyses came."""
        return [p for p, alive in zip(self._slot_paths, self._alive, strict=True) if alive]

    # -- adding ------------------------------------------------------------------------------

    def add(self, analysis: RecordingAnalysis) -> None:
        """Add (or replace) one recording's analysis, kept whole (it carries its header)."""
        self.add_block(AnalysisBlock.of(analysis))
        self._whole[analysis.info.path] = analysis

    def add_block(self, block: AnalysisBlock) -> None:
        """Add (or replace) the analyses of a block's recordings. A block of another model set
        (other labels) replaces everything held.
        """
        if not len(block):
            return
        if block.labels != self.labels:
            self.clear()
            self.labels, self.model_names = block.labels, block.model_names
        b = len(self._blocks)
        if block.per_model_logits is not None:
            probabilities, method = _combined(block.per_model_logits, self._combine), self._combine
        elif block.combined is not None and block.combine is not None:
            probabilities, method = block.combined, block.combine
        else:
            raise ValueError("a block needs its logits or its combined probabilities")
        self._blocks.append(replace(block, combined=None))  # held once, in _probabilities
        self._probabilities.append(probabilities)
        self._methods.append(method)
        for path, first, n in zip(
            block.paths, block.offsets.tolist(), block.n_segments.tolist(), strict=True
        ):
            old = self._slot_of.get(path)
            if old is not None:
                self._alive[old] = False
                self._n_live -= 1
                self._whole.pop(path, None)
            self._slot_of[path] = len(self._slots)
            self._slots.append(_Slot(b, int(first), int(n), self._segments + int(first)))
            self._slot_paths.append(path)
            self._alive.append(True)
            self._n_live += 1
        self._segments += int(block.n_segments.sum())
        # The old stack (and the last result's hold on it) is let go before the next is made:
        # two stacks of a season's probabilities at once were its peak of memory.
        self._stack = self._last = None

    def set_combine(self, method: CombineMethod) -> None:
        """Recombine every block that holds its logits for another method (no inference); the
        blocks read from the store keep their probabilities until a recombination of theirs
        comes (:meth:`recombination_wanted`, :meth:`set_recombined`).
        """
        if method == self._combine:
            return
        self._combine = method
        self._stack = self._last = None
        for b, block in enumerate(self._blocks):
            if block.per_model_logits is not None:
                self._probabilities[b] = _combined(block.per_model_logits, method)
                self._methods[b] = method

    @property
    def is_combined_throughout(self) -> bool:
        """Every held probability is by the current combine method."""
        return all(m == self._combine for m in self._methods)

    def recombination_wanted(self) -> Recombination | None:
        """What to read from the store to bring every block to the current combine method
        (None: nothing; see :func:`recombine_block`).
        """
        stale = tuple(
            StoredBlock(b, block.paths, block.n_segments, block.model_set_id)
            for b, (block, m) in enumerate(zip(self._blocks, self._methods, strict=True))
            if m != self._combine
        )
        return Recombination(self.generation, self._combine, stale) if stale else None

    def set_recombined(
        self, generation: int, index: int, method: str, probabilities: FloatArray32
    ) -> bool:
        """Take block ``index``'s probabilities by ``method`` (from :func:`recombine_block`);
        False, and nothing changes, when they are stale (another survey, another method since,
        another shape).
        """
        if (
            generation != self.generation
            or method != self._combine
            or not 0 <= index < len(self._blocks)
            or probabilities.shape != self._probabilities[index].shape
        ):
            return False
        self._probabilities[index] = probabilities
        self._methods[index] = method
        self._stack = self._last = None
        return True

    # -- reading -----------------------------------------------------------------------------

    def analysis_of(
        self,
        path: Path,
        info: RecordingInfo | None,
        stored_logits: Callable[[Path, str], FloatArray32 | None] | None = None,
    ) -> RecordingAnalysis | None:
        """The analysis of ``path`` as one object, described by ``info`` (the file's header;
        None: only an analysis given whole has one). Its logits are a view into its block, or,
        for a block read from the store, ``stored_logits(path, model_set_id)`` (None when they
        cannot be read: no analysis).
        """
        whole = self._whole.get(path)
        if whole is not None:
            return whole
        slot_index = self._slot_of.get(path)
        if slot_index is None or info is None:
            return None
        slot = self._slots[slot_index]
        block = self._blocks[slot.block]
        windows = windows_for(info)
        if len(windows) != slot.n_segments:
            return None  # another file than the one analysed
        if block.per_model_logits is not None:
            logits = block.per_model_logits[:, slot.first : slot.first + slot.n_segments]
        else:
            kept = None if stored_logits is None else stored_logits(path, block.model_set_id)
            shape = (len(block.model_names), slot.n_segments, len(block.labels))
            if kept is None or kept.shape != shape:
                return None  # not readable, or no longer the analysis held
            logits = kept
        return RecordingAnalysis(
            info=info,
            windows=tuple(windows),
            per_model_logits=logits,
            labels=block.labels,
            model_names=block.model_names,
        )

    def stored_model_set(self, path: Path) -> str | None:
        """The model set ``path``'s logits are kept under in the store, when its block holds
        only probabilities (None: held here, or not held).
        """
        slot_index = self._slot_of.get(path)
        if slot_index is None:
            return None
        block = self._blocks[self._slots[slot_index].block]
        return None if block.per_model_logits is not None else block.model_set_id

    def probabilities_of(self, path: Path) -> FloatArray32 | None:
        """The combined probabilities of ``path``'s windows (a view into the stack)."""
        slot_index = self._slot_of.get(path)
        if slot_index is None:
            return None
        slot = self._slots[slot_index]
        return self._stacked().probabilities[
            slot.stacked_first : slot.stacked_first + slot.n_segments
        ]

    def event_count(self, label: str, threshold: float) -> int:
        """How many events ``label`` would have at ``threshold``: only that label's column is
        searched (one label's events do not depend on the others').
        """
        if label not in self.labels:
            return 0
        stack = self._stacked()
        if not stack.paths:
            return 0
        k = self.labels.index(label)
        column = stack.probabilities[:, k : k + 1]
        events = find_runs(column, [threshold], [True], run_breaks=stack.breaks)
        if stack.n_dead:
            return int(stack.alive[stack.recording[events.first_segment]].sum())
        return len(events)

    def detections(self, thresholds: npt.ArrayLike) -> SurveyDetections:
        """Every held recording's events at ``thresholds`` (in :attr:`labels` order)."""
        return self.detections_after(thresholds, None)[0]

    def detections_after(
        self, thresholds: npt.ArrayLike, previous: SurveyDetections | None
    ) -> tuple[SurveyDetections, IntArray | None]:
        """:meth:`detections`, reusing ``previous`` (this holder's last result) when only a
        few labels' thresholds changed since: only their columns are searched again, the
        other labels' events are kept — a threshold drag over a season's ~1 M events costs one
        label's share. Returns the events and, when ``previous`` was reused, each event's index
        in ``previous`` (-1: new), so that what is attached to the kept events can be kept.
        """
        thr = np.asarray(thresholds, dtype=np.float64)
        stack = self._stacked()
        if not stack.paths:
            events = find_runs(np.zeros((0, 0), np.float32), [], [])
            return SurveyDetections(events, np.empty(0, np.intp), ()), None
        last = self._last
        if (
            previous is not None
            and last is not None
            and last[0] is stack
            and last[2] is previous
            and last[1].shape == thr.shape
        ):
            changed = np.flatnonzero(last[1] != thr)
            if len(changed) <= MAX_LABELS_UPDATED_ALONE:
                found, reused = self._update_labels(stack, previous, thr, changed)
                self._last = (stack, thr.copy(), found)
                return found, reused
        events = detection_events_of_many(
            stack.probabilities, stack.starts, stack.ends, stack.breaks, thr, self.labels
        )
        found = self._survey(stack, events)
        self._last = (stack, thr.copy(), found)
        return found, None

    def _survey(self, stack: _Stack, events: DetectionEvents) -> SurveyDetections:
        recording = stack.recording[events.first_segment]
        if stack.n_dead:
            keep = stack.alive[recording]
            events, recording = events.take(keep), recording[keep]
        return SurveyDetections(events, recording, stack.paths, stack.slot_of)

    def _update_labels(
        self, stack: _Stack, previous: SurveyDetections, thr: FloatArray, changed: IntArray
    ) -> tuple[SurveyDetections, IntArray]:
        old = previous.events
        if not len(changed):
            return previous, np.arange(len(old), dtype=np.intp)
        detectable = detectable_labels(self.labels)[changed]
        columns = stack.probabilities[:, changed]
        fresh = _events_of_columns(stack, columns, thr[changed], detectable)
        fresh = DetectionEvents(
            changed[fresh.label_index].astype(np.intp), fresh.first_segment, fresh.last_segment,
            fresh.max_prob, fresh.mean_prob, fresh.start_s, fresh.end_s,
        )  # fmt: skip
        fresh_survey = self._survey(stack, fresh)
        kept = np.flatnonzero(~np.isin(old.label_index, changed))
        label_index = np.concatenate([old.label_index[kept], fresh_survey.events.label_index])
        # Label-major again (both parts are, each label's events in segment order): a stable
        # sort on small integers (a radix sort).
        order = np.argsort(label_index.astype(np.int16), kind="stable")
        reused = np.concatenate([kept, np.full(len(fresh_survey.events), -1, np.intp)])[order]

        def merged(column: str) -> np.ndarray:
            both = np.concatenate(
                [getattr(old, column)[kept], getattr(fresh_survey.events, column)]
            )
            return both[order]

        events = DetectionEvents(
            label_index[order], merged("first_segment"), merged("last_segment"),
            merged("max_prob"), merged("mean_prob"), merged("start_s"), merged("end_s"),
        )  # fmt: skip
        recording = np.concatenate([previous.recording_index[kept], fresh_survey.recording_index])[
            order
        ]
        return SurveyDetections(events, recording, stack.paths, stack.slot_of), reused

    def _stacked(self) -> _Stack:
        if self._stack is None:
            self._stack = _Stack.of(self)
        return self._stack


def _events_of_columns(
    stack: _Stack, columns: FloatArray32, thresholds: FloatArray, detectable: BoolArray
) -> DetectionEvents:
    """The events of some labels' columns (label indices into ``columns``), with their spans."""
    events = find_runs(columns, thresholds, detectable, run_breaks=stack.breaks)
    return DetectionEvents(
        events.label_index, events.first_segment, events.last_segment, events.max_prob,
        events.mean_prob, stack.starts[events.first_segment], stack.ends[events.last_segment],
    )  # fmt: skip


def _combined(per_model_logits: FloatArray32, method: CombineMethod) -> FloatArray32:
    """Probabilities of every window of a block: the same elementwise operations, in the same
    order, as :meth:`RecordingAnalysis.probabilities` on each recording alone (bit for bit).
    """
    probabilities = sigmoid(combine_logits(per_model_logits, method))
    return np.asarray(probabilities, dtype=np.float32)


@dataclass(frozen=True)
class _Stack:
    paths: tuple[Path, ...]  # per slot (a replaced recording twice: its dead slot first)
    slot_of: dict[Path, int]
    probabilities: FloatArray32
    starts: FloatArray
    ends: FloatArray
    breaks: BoolArray
    recording: IntArray  # segment -> slot
    alive: BoolArray  # per slot
    n_dead: int

    @staticmethod
    def of(held: StackedAnalyses) -> _Stack:
        blocks = held._blocks
        if not blocks:
            empty = np.empty(0)
            return _Stack(
                (), {}, np.zeros((0, 0), np.float32), empty, empty, empty.astype(bool),
                empty.astype(np.intp), empty.astype(bool), 0,
            )  # fmt: skip
        counts = np.concatenate([b.n_segments for b in blocks])
        breaks = np.zeros(int(counts.sum()), dtype=bool)
        breaks[np.concatenate([[0], np.cumsum(counts)[:-1]])] = True
        alive = np.array(held._alive, dtype=bool)
        probabilities = held._probabilities
        stacked = probabilities[0] if len(probabilities) == 1 else np.concatenate(probabilities)
        starts = np.concatenate([b.window_starts_s for b in blocks])
        ends = np.concatenate([b.window_ends_s for b in blocks])
        # The blocks' own copies become views into the stack: a season's probabilities and
        # window spans are held once, not twice.
        bounds = np.cumsum([len(b.window_starts_s) for b in blocks])[:-1]
        held._probabilities = np.split(stacked, bounds)
        held._blocks = [
            replace(b, window_starts_s=s, window_ends_s=e)
            for b, s, e in zip(
                blocks, np.split(starts, bounds), np.split(ends, bounds), strict=True
            )
        ]
        return _Stack(
            tuple(held._slot_paths),
            dict(held._slot_of),
            stacked,
            starts,
            ends,
            breaks,
            np.repeat(np.arange(len(counts), dtype=np.intp), counts),
            alive,
            int((~alive).sum()),
        )


def block_of(
    paths: Sequence[Path],
    infos: Sequence[RecordingInfo],
    per_model_logits: Sequence[FloatArray32],
    labels: tuple[str, ...],
    model_names: tuple[str, ...],
    *,
    combine: CombineMethod | None = None,
    model_set_id: str = "",
) -> AnalysisBlock:
    """A block from each recording's header and ``[n_models, n_segments, n_labels]`` logits
    (their windows from the header; the logits copied once, into the block's array). With
    ``combine``, the block keeps only the probabilities by that method (a store's block: its
    logits stay in the store, under ``model_set_id``).
    """
    bounds = [window_bounds_of(info) for info in infos]
    n_segments = np.array([len(b[0]) for b in bounds], dtype=np.intp)
    block = AnalysisBlock(
        paths=tuple(paths),
        n_segments=n_segments,
        window_starts_s=np.concatenate([b[0] for b in bounds]) if bounds else np.empty(0),
        window_ends_s=np.concatenate([b[1] for b in bounds]) if bounds else np.empty(0),
        per_model_logits=np.concatenate(list(per_model_logits), axis=1)
        if per_model_logits
        else np.zeros((len(model_names), 0, len(labels)), np.float32),
        labels=labels,
        model_names=model_names,
        duration_s=np.array([i.duration_s for i in infos], dtype=np.float64),
        true_rate_hz=np.array([float(i.true_rate_hz) for i in infos], dtype=np.float64),
        time_expansion=np.array([i.time_expansion for i in infos], dtype=np.float64),
        model_set_id=model_set_id,
    )
    if combine is None or block.per_model_logits is None:
        return block
    combined = _combined(block.per_model_logits, combine)
    return replace(block, per_model_logits=None, combined=combined, combine=combine)


@dataclass(frozen=True)
class StoredBlock:
    """A held block whose logits are in the store: where its recordings' segments are."""

    index: int
    paths: tuple[Path, ...]
    n_segments: IntArray
    model_set_id: str


@dataclass(frozen=True)
class Recombination:
    """The blocks to bring to ``method`` (see :meth:`StackedAnalyses.recombination_wanted`)."""

    generation: int
    method: CombineMethod
    blocks: tuple[StoredBlock, ...]

    @property
    def n_recordings(self) -> int:
        """How many recordings' logits are read."""
        return sum(len(b.paths) for b in self.blocks)


def recombine_block(
    block: StoredBlock,
    method: CombineMethod,
    read_logits: Callable[[Sequence[Path], str], dict[Path, FloatArray32]],
) -> FloatArray32 | None:
    """The probabilities of ``block`` by ``method``, from its logits as the store keeps them
    (``read_logits(paths, model_set_id)``, e.g. :meth:`AnalysisRecords.stored_logits`); None
    when one recording's logits are missing or of another shape (the store changed since the
    block was read: it is read again on the next opening).
    """
    kept = read_logits(block.paths, block.model_set_id)
    parts: list[FloatArray32] = []
    for path, n in zip(block.paths, block.n_segments.tolist(), strict=True):
        logits = kept.get(path)
        if logits is None or logits.shape[1] != n:
            return None
        parts.append(logits)
    if not parts:
        return None
    return _combined(np.concatenate(parts, axis=1), method)
