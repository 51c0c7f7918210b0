"""Our ``analyze`` pipeline against the model card's snippet, on the same files and models, in
one process, alternating (so drifting machine load hits both alike).

Sessions are created before timing on both sides. Our side is the pipeline ``analyze`` runs
(:func:`bsgbat_gui.core.analysis.pipeline.analyse_recordings`, mean combine); the reference is
the card's ``wav_to_segments`` + the six sessions on the whole file
(:mod:`bsgbat_gui.benchmark.reference`).
Throughput counts every window each side analyses (ours adds a tail window the card's grid
leaves out — real work, counted as such).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bsgbat_gui.benchmark.reference import reference_probabilities, reference_sessions
from bsgbat_gui.core.analysis.analyse import RecordingAnalysed
from bsgbat_gui.core.analysis.pipeline import analyse_recordings
from bsgbat_gui.core.audio.segments import FLAG_NONE
from bsgbat_gui.core.models.ensemble import Ensemble

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from bsgbat_gui.core.models.locate import ModelSet


@dataclass(frozen=True)
class ThroughputResult:
    segments_per_s: float  # median over repeats
    reference_segments_per_s: float
    max_abs_diff: float  # probabilities, our grid windows vs the card's segments
    ort_time_fraction: float  # of our wall time, inside InferenceSession.run
    n_files: int
    repeats: int


def _ours(paths: Sequence[Path], ensemble: Ensemble) -> tuple[float, float, dict[Path, np.ndarray]]:
    ensemble.inference_s = 0.0
    started = time.perf_counter()
    n = 0
    probabilities: dict[Path, np.ndarray] = {}
    for event in analyse_recordings(paths, ensemble):
        if isinstance(event, RecordingAnalysed):
            analysis = event.analysis
            n += len(analysis.windows)
            grid = [w.index for w in analysis.windows if w.flag == FLAG_NONE]
            probabilities[analysis.info.path] = analysis.probabilities("mean")[grid]
    wall = time.perf_counter() - started
    return n / wall, ensemble.inference_s / wall, probabilities


def _reference(
    paths: Sequence[Path], sessions: list[object]
) -> tuple[float, dict[Path, np.ndarray]]:
    started = time.perf_counter()
    out = {path: reference_probabilities(path, sessions) for path in paths}
    wall = time.perf_counter() - started
    return sum(len(p) for p in out.values()) / wall, out


def measure_throughput(
    paths: Sequence[Path],
    model_set: ModelSet,
    *,
    repeats: int = 3,
    log: Callable[[str], None] = lambda line: None,
) -> ThroughputResult:
    ensemble = Ensemble(model_set)
    sessions = reference_sessions(model_set.model_paths)
    # Warm both (librosa/resampy compile on first use, ONNX Runtime allocates its arenas).
    _ours(paths[:2], ensemble)
    _reference(paths[:2], sessions)
    ours_rates, ref_rates, fractions = [], [], []
    diff = 0.0
    for k in range(repeats):
        rate, fraction, ours = _ours(paths, ensemble)
        ref_rate, ref = _reference(paths, sessions)
        ours_rates.append(rate)
        fractions.append(fraction)
        ref_rates.append(ref_rate)
        for path, reference in ref.items():
            n = min(len(reference), len(ours[path]))
            diff = max(diff, float(np.abs(ours[path][:n] - reference[:n]).max()))
        log(f"  repeat {k + 1}/{repeats}: ours {rate:.2f} segments/s "
            f"(ONNX Runtime {fraction:.0%} of it), card {ref_rate:.2f} segments/s")  # fmt: skip
    return ThroughputResult(
        statistics.median(ours_rates),
        statistics.median(ref_rates),
        diff,
        statistics.median(fractions),
        len(paths),
        repeats,
    )
