"""``bsgbat-gui calls``: find and measure bat calls in recordings, headless, into a CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import IO

from bsgbat_gui.commands.analyze import positive_float
from bsgbat_gui.commands.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from bsgbat_gui.commands.progress import ProgressBar
from bsgbat_gui.core.audio.recording import (
    RecordingError,
    display_path,
    find_recordings,
    probe_recording,
)
from bsgbat_gui.core.calls.calls_csv import CallsCsvWriter
from bsgbat_gui.core.calls.detect import band_problem, iter_calls
from bsgbat_gui.core.calls.parameters import CallTable
from bsgbat_gui.core.calls.settings import CallSettings, CallSettingsError
from bsgbat_gui.core.files import AtomicTextFile

_DEFAULTS = CallSettings()


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "calls",
        help="find bat calls in recordings and write their parameters (one CSV row per call)",
        description="Find bat calls (time-frequency events above each frequency's noise floor) "
        "in recordings, at their true rate, and write one row per call with its start, "
        "duration, Fmax, Fmin, FME, slope, level and SNR in real units.",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="recordings or folders")
    p.add_argument("--out", type=Path, required=True, metavar="OUT.csv", help="the CSV to write")
    p.add_argument(
        "--band",
        nargs=2,
        type=_non_negative_float,
        metavar=("FMIN_KHZ", "FMAX_KHZ"),
        default=(_DEFAULTS.fmin_khz, _DEFAULTS.fmax_khz),
        help=f"analysis band in real kHz (default {_DEFAULTS.fmin_khz:g} "
        f"{_DEFAULTS.fmax_khz:g}; clipped at each recording's Nyquist frequency)",
    )
    p.add_argument(
        "--threshold-db",
        type=positive_float,
        default=_DEFAULTS.threshold_db,
        metavar="DB",
        help=f"a call needs a cell this far above its frequency's noise floor (default "
        f"{_DEFAULTS.threshold_db:g}; its other cells need --extend-db)",
    )
    p.add_argument(
        "--extend-db",
        type=positive_float,
        default=_DEFAULTS.extend_db,
        metavar="DB",
        help=f"cells joining a call need this much above the floor (default "
        f"{_DEFAULTS.extend_db:g}, at most --threshold-db)",
    )
    p.add_argument(
        "--min-duration-ms",
        type=_non_negative_float,
        default=_DEFAULTS.min_duration_ms,
        metavar="MS",
        help=f"shorter events are not calls (default {_DEFAULTS.min_duration_ms:g})",
    )
    p.add_argument(
        "--time-expansion",
        type=positive_float,
        metavar="N",
        help="time-expansion factor of every input (overrides the files' metadata)",
    )
    p.set_defaults(run=run)


def _settings(args: argparse.Namespace) -> CallSettings:
    return CallSettings(
        fmin_khz=args.band[0],
        fmax_khz=args.band[1],
        threshold_db=args.threshold_db,
        extend_db=args.extend_db,
        min_duration_ms=args.min_duration_ms,
    )


def run(
    args: argparse.Namespace, *, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    try:
        settings = _settings(args)
    except CallSettingsError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    if not args.out.parent.resolve().is_dir():
        stderr.write(f"error: {args.out.parent}: folder for --out does not exist\n")
        return EXIT_USAGE
    recordings, missing = find_recordings(list(args.paths))
    for line in missing:
        stderr.write(f"error: {line}\n")
    if not recordings:
        stderr.write("error: no recordings (.wav, .flac) found in the given paths\n")
        return EXIT_USAGE

    failed = len(missing)
    n_calls = 0
    progress = ProgressBar(len(recordings), stream=stderr)
    try:
        with AtomicTextFile(args.out) as out:
            writer = CallsCsvWriter(out)
            for index, path in enumerate(recordings):
                label = display_path(path)
                try:
                    info = probe_recording(path, time_expansion=args.time_expansion)
                    for warning in info.warnings:
                        progress.message(f"warning: {label}: {warning}")
                    problem = band_problem(settings, info.true_rate_hz)
                    if problem is not None:
                        progress.message(f"warning: {label}: {problem}")
                    rows: list[tuple[float, ...]] = []
                    for found in iter_calls(info, settings):
                        rows.extend(found.rows)
                        done = found.done_s / found.duration_s if found.duration_s else 1.0
                        progress.update(index + done, display_path(path.name))
                except RecordingError as exc:
                    failed += 1
                    progress.message(f"error: {label}: {exc}")
                    continue
                calls = CallTable.from_rows(rows)
                n_calls += len(calls)
                writer.write_recording(str(path), calls, info.time_expansion)
            progress.clear()
    except KeyboardInterrupt:
        progress.clear()
        stderr.write("interrupted: nothing was written\n")
        return EXIT_INTERRUPTED
    except OSError as exc:
        progress.clear()
        stderr.write(f"error: cannot write {args.out}: {exc.strerror or exc}\n")
        return EXIT_SOME_FAILED
    measured = len(recordings) + len(missing) - failed
    stdout.write(f"wrote {n_calls} calls to {display_path(args.out)}\n")
    stderr.write(f"{measured} measured, {failed} failed\n")
    return EXIT_SOME_FAILED if failed else EXIT_OK
