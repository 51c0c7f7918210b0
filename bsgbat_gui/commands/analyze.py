"""``bsgbat-gui analyze``: run the ensemble over recordings, headless."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from bsgbat_gui.commands.progress import ProgressBar
from bsgbat_gui.core.analysis import (
    DEFAULT_BATCH_SIZE,
    RecordingAnalysed,
    RecordingFailed,
    RecordingStarted,
    SegmentsAnalysed,
    analyse_recordings,
)
from bsgbat_gui.core.audio import find_recordings
from bsgbat_gui.core.ensemble import COMBINE_METHODS, DEFAULT_PROVIDER, Ensemble
from bsgbat_gui.core.export import AtomicTextFile, SegmentsCsvWriter
from bsgbat_gui.core.model_card import BACKGROUND_LABEL
from bsgbat_gui.core.models import ModelSetError, locate_model_set

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2
SUMMARY_THRESHOLD = 0.5  # the card's default: probability > 0.5 <=> logit > 0


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
        default="mean",
        help="how the models' logits are combined (default: mean)",
    )
    p.add_argument(
        "--segments",
        type=Path,
        metavar="OUT.csv",
        help="write one row per model window with every label's probability",
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


def _summary_line(path_label: str, labels: tuple[str, ...], probabilities) -> str:
    peak = probabilities.max(axis=0)
    found = sorted(
        (
            (float(peak[i]), label)
            for i, label in enumerate(labels)
            if label != BACKGROUND_LABEL and peak[i] > SUMMARY_THRESHOLD
        ),
        reverse=True,
    )
    if not found:
        return f"{path_label}: no species above {SUMMARY_THRESHOLD}"
    return f"{path_label}: " + ", ".join(f"{label} {p:.2f}" for p, label in found)


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
    if args.segments is not None and not args.segments.parent.resolve().is_dir():
        stderr.write(f"error: {args.segments.parent}: folder for --segments does not exist\n")
        return EXIT_USAGE

    failed = len(missing)
    progress = ProgressBar(len(recordings), stream=stderr)
    try:
        with ExitStack() as stack:
            writer = None
            if args.segments is not None:
                out = stack.enter_context(AtomicTextFile(args.segments))
                writer = SegmentsCsvWriter(out, ensemble.labels)
            for event in analyse_recordings(
                recordings, ensemble, time_expansion=args.time_expansion, batch_size=args.batch_size
            ):
                if isinstance(event, RecordingStarted):
                    for warning in event.info.warnings:
                        progress.message(f"warning: {event.path}: {warning}")
                elif isinstance(event, SegmentsAnalysed):
                    progress.update(event.index + event.done / event.total, event.path.name)
                elif isinstance(event, RecordingFailed):
                    failed += 1
                    progress.message(f"error: {event.path}: {event.reason}")
                elif isinstance(event, RecordingAnalysed):
                    analysis = event.analysis
                    probabilities = analysis.probabilities(args.combine)
                    if writer is not None:
                        writer.write_recording(
                            str(analysis.info.path), analysis.windows, probabilities
                        )
                    else:
                        progress.clear()
                        stdout.write(
                            _summary_line(str(analysis.info.path), analysis.labels, probabilities)
                            + "\n"
                        )
            progress.clear()
    except KeyboardInterrupt:
        progress.clear()
        stderr.write("interrupted: nothing was written\n")
        return 130
    except OSError as exc:
        progress.clear()
        stderr.write(f"error: cannot write {args.segments}: {exc.strerror or exc}\n")
        return EXIT_SOME_FAILED
    analysed = len(recordings) + len(missing) - failed
    stderr.write(f"{analysed} analysed, {failed} failed\n")
    return EXIT_SOME_FAILED if failed else EXIT_OK
