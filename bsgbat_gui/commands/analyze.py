"""``bsgbat-gui analyze``: run the ensemble over recordings, headless."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from bsgbat_gui.commands.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from bsgbat_gui.commands.progress import ProgressBar
from bsgbat_gui.core.analysis.analyse import (
    DEFAULT_BATCH_SIZE,
    RecordingAnalysed,
    RecordingFailed,
    RecordingStarted,
    SegmentsAnalysed,
)
from bsgbat_gui.core.analysis.detections import DetectionEvents, detection_events
from bsgbat_gui.core.analysis.pipeline import analyse_recordings
from bsgbat_gui.core.analysis.thresholds import PresetError, ThresholdSettings, load_preset
from bsgbat_gui.core.audio.recording import display_path, find_recordings
from bsgbat_gui.core.export.analysis_csv import DetectionsCsvWriter, SegmentsCsvWriter
from bsgbat_gui.core.files import AtomicTextFile
from bsgbat_gui.core.models.ensemble import COMBINE_METHODS, DEFAULT_PROVIDER, Ensemble
from bsgbat_gui.core.models.locate import ModelSetError, locate_model_set
from bsgbat_gui.core.review.analysis_cache import StoreCache
from bsgbat_gui.core.review.connection import StoreError
from bsgbat_gui.core.review.store import ReviewStore


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="run the BSG-BAT ensemble over recordings (files or folders)",
        description="Run the BSG-BAT ensemble over recordings and write per-segment probabilities.",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="recordings or folders")
    p.add_argument("--models", type=Path, metavar="DIR", help="model set folder")
    p.add_argument(
        "--combine",
        choices=COMBINE_METHODS,
        help="how the models' logits are combined (default: the preset's, else mean)",
    )
    p.add_argument(
        "--thresholds",
        type=Path,
        metavar="PRESET.json",
        help="per-species thresholds and combine method saved from the window (default: 0.5)",
    )
    p.add_argument(
        "--project",
        type=Path,
        metavar="STORE.sqlite",
        help="review store to fill (and to read earlier analyses from): analyse overnight, "
        "review in the window the next day",
    )
    p.add_argument(
        "--segments",
        type=Path,
        metavar="OUT.csv",
        help="write one row per model window with every label's probability",
    )
    p.add_argument(
        "--detections",
        type=Path,
        metavar="OUT.csv",
        help="write one row per detection event (consecutive segments at or above threshold)",
    )
    p.add_argument(
        "--time-expansion",
        type=positive_float,
        metavar="N",
        help="time-expansion factor of every input (overrides the files' metadata)",
    )
    p.add_argument(
        "--provider",
        default=DEFAULT_PROVIDER,
        metavar="NAME",
        help=f"ONNX Runtime execution provider (default: {DEFAULT_PROVIDER})",
    )
    p.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N", help=argparse.SUPPRESS
    )
    p.set_defaults(run=run)


def _summary_line(path_label: str, labels: tuple[str, ...], events: DetectionEvents) -> str:
    """``file: Species max-p, …`` for the species with at least one event, most probable first."""
    peaks: dict[str, float] = {}
    for label_index, p in zip(events.label_index, events.max_prob, strict=True):
        label = labels[int(label_index)]
        peaks[label] = max(peaks.get(label, 0.0), float(p))
    if not peaks:
        return f"{path_label}: no species at or above its threshold"
    found = sorted(((p, label) for label, p in peaks.items()), reverse=True)
    return f"{path_label}: " + ", ".join(f"{label} {p:.2f}" for p, label in found)


def _output_folder_problem(option: str, path: Path | None) -> str | None:
    if path is not None and not path.parent.resolve().is_dir():
        return f"{path.parent}: folder for {option} does not exist"
    return None


def _threshold_settings(
    args: argparse.Namespace, labels: tuple[str, ...], stderr: IO[str]
) -> ThresholdSettings:
    """The thresholds and combine method to use: the preset's (its problems written as warnings),
    with an explicit ``--combine`` winning. Raises :class:`PresetError` for an unusable preset."""
    settings = ThresholdSettings()
    if args.thresholds is not None:
        loaded = load_preset(args.thresholds, labels)  # PresetError handled by the caller
        for problem in loaded.problems:
            stderr.write(f"warning: {args.thresholds}: {problem}\n")
        settings = loaded.settings
    combine = args.combine or settings.combine
    return ThresholdSettings(settings.thresholds, combine)


def run(
    args: argparse.Namespace, *, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    recordings, missing = find_recordings(list(args.paths))
    for line in missing:
        stderr.write(f"error: {line}\n")
    if not recordings:
        stderr.write("error: no recordings (.wav, .flac) found in the given paths\n")
        return EXIT_USAGE
    try:
        model_set = locate_model_set(args.models)
        ensemble = Ensemble(model_set, provider=args.provider)
    except ModelSetError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    if model_set.incomplete:
        stderr.write(f"warning: {model_set.incomplete}\n")
    for option, path in (("--segments", args.segments), ("--detections", args.detections)):
        problem = _output_folder_problem(option, path)
        if problem is not None:
            stderr.write(f"error: {problem}\n")
            return EXIT_USAGE
    try:
        settings = _threshold_settings(args, ensemble.labels, stderr)
    except PresetError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    thresholds = settings.array_for(ensemble.labels)
    cache: StoreCache | None = None
    if args.project is not None:
        try:
            store = ReviewStore.open(args.project, exclusive=False)
        except StoreError as exc:
            stderr.write(f"error: {exc}\n")
            return EXIT_USAGE
        cache = StoreCache(store, model_set)

    failed = len(missing)
    from_cache = 0
    progress = ProgressBar(len(recordings), stream=stderr)
    try:
        with ExitStack() as stack:
            segments_writer = detections_writer = None
            if args.segments is not None:
                out = stack.enter_context(AtomicTextFile(args.segments))
                segments_writer = SegmentsCsvWriter(out, ensemble.labels)
            if args.detections is not None:
                out = stack.enter_context(AtomicTextFile(args.detections))
                detections_writer = DetectionsCsvWriter(out)
            for event in analyse_recordings(
                recordings,
                ensemble,
                time_expansion=args.time_expansion,
                batch_size=args.batch_size,
                cache=cache,
            ):
                if isinstance(event, RecordingStarted):
                    for warning in event.info.warnings:
                        progress.message(f"warning: {display_path(event.path)}: {warning}")
                elif isinstance(event, SegmentsAnalysed):
                    progress.update(
                        event.index + event.done / event.total, display_path(event.path.name)
                    )
                elif isinstance(event, RecordingFailed):
                    failed += 1
                    progress.message(f"error: {display_path(event.path)}: {event.reason}")
                elif isinstance(event, RecordingAnalysed):
                    from_cache += event.from_cache
                    analysis = event.analysis
                    file_label = str(analysis.info.path)
                    probabilities = analysis.probabilities(settings.combine)
                    events = detection_events(
                        probabilities, analysis.windows, thresholds, analysis.labels
                    )
                    if segments_writer is not None:
                        segments_writer.write_recording(file_label, analysis.windows, probabilities)
                    if detections_writer is not None:
                        detections_writer.write_recording(
                            file_label, events, analysis.labels, thresholds
                        )
                    if segments_writer is None and detections_writer is None:
                        progress.clear()
                        line = _summary_line(display_path(file_label), analysis.labels, events)
                        stdout.write(line + "\n")
            progress.clear()
    except KeyboardInterrupt:
        progress.clear()
        stderr.write("interrupted: nothing was written\n")
        return EXIT_INTERRUPTED
    except OSError as exc:
        progress.clear()
        outputs = " or ".join(str(p) for p in (args.segments, args.detections) if p is not None)
        stderr.write(f"error: cannot write {outputs}: {exc.strerror or exc}\n")
        return EXIT_SOME_FAILED
    analysed = len(recordings) + len(missing) - failed
    if cache is not None:
        if cache.problem:
            stderr.write(f"warning: {args.project}: {cache.problem}\n")
        cache.store.close()
        stderr.write(f"{analysed} analysed ({from_cache} from {args.project}), {failed} failed\n")
    else:
        stderr.write(f"{analysed} analysed, {failed} failed\n")
    return EXIT_SOME_FAILED if failed else EXIT_OK
