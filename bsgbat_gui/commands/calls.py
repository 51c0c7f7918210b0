"""``bsgbat-gui calls``: find and measure bat calls in recordings, headless, into a CSV."""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bsgbat_gui.commands.arguments import non_negative_float, positive_float
from bsgbat_gui.commands.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from bsgbat_gui.commands.progress import ProgressBar
from bsgbat_gui.core.audio.recording import (
    RecordingError,
    RecordingInfo,
    display_path,
    find_recordings,
    probe_recording,
)
from bsgbat_gui.core.calls.calls_csv import CallsCsvWriter
from bsgbat_gui.core.calls.detect import band_problem, iter_calls
from bsgbat_gui.core.calls.parameters import CallTable
from bsgbat_gui.core.calls.settings import CallSettings, CallSettingsError
from bsgbat_gui.core.files import AtomicTextFile, sha256_file
from bsgbat_gui.core.review.connection import StoreError
from bsgbat_gui.core.review.store import ReviewStore

if TYPE_CHECKING:
    import argparse

_DEFAULTS = CallSettings()
STORE_ERRORS = (sqlite3.Error, OSError, StoreError)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "calls",
        help="find bat calls in recordings and write their parameters (one CSV row per call)",
        description="Find bat calls (time-frequency events above each frequency's noise floor) "
        "in recordings, at their true rate, and write one row per call with its start, "
        "duration, Fmax, Fmin, FME, slope, level and SNR in real units.",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="recordings or folders")
    p.add_argument("--out", type=Path, metavar="OUT.csv", help="the CSV to write")
    p.add_argument(
        "--project",
        type=Path,
        metavar="STORE.sqlite",
        help="review store to keep the calls in (the window shows them, exports summarise "
        "them per detection); recordings measured before with the same settings are read "
        "from it. The store's call settings apply unless options here set new ones, which "
        "the store then keeps",
    )
    p.add_argument(
        "--band",
        nargs=2,
        type=non_negative_float,
        metavar=("FMIN_KHZ", "FMAX_KHZ"),
        help=f"analysis band in real kHz (default {_DEFAULTS.fmin_khz:g} "
        f"{_DEFAULTS.fmax_khz:g}; clipped at each recording's Nyquist frequency)",
    )
    p.add_argument(
        "--threshold-db",
        type=positive_float,
        metavar="DB",
        help=f"a call needs a cell this far above its frequency's noise floor (default "
        f"{_DEFAULTS.threshold_db:g}; its other cells need --extend-db)",
    )
    p.add_argument(
        "--extend-db",
        type=positive_float,
        metavar="DB",
        help=f"cells joining a call need this much above the floor (default "
        f"{_DEFAULTS.extend_db:g}, at most --threshold-db)",
    )
    p.add_argument(
        "--min-duration-ms",
        type=non_negative_float,
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


def _settings(args: argparse.Namespace, base: CallSettings) -> CallSettings:
    """``base`` with the settings the options give (those not given keep ``base``'s)."""
    changes: dict[str, float] = {}
    if args.band is not None:
        changes["fmin_khz"], changes["fmax_khz"] = args.band
    for name in ("threshold_db", "extend_db", "min_duration_ms"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    return replace(base, **changes)


def _stored(
    store: ReviewStore | None, info: RecordingInfo, settings: CallSettings
) -> CallTable | None:
    """The calls the store holds for this file and these settings (a store that cannot be read
    is no cache: the file is measured)."""
    if store is None:
        return None
    try:
        return store.cached_calls(info, settings)
    except STORE_ERRORS:
        return None


def run(
    args: argparse.Namespace, *, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    if args.out is None and args.project is None:
        stderr.write("error: nothing to write: give --out CALLS.csv, --project STORE, or both\n")
        return EXIT_USAGE
    if args.out is not None and not args.out.parent.resolve().is_dir():
        stderr.write(f"error: {args.out.parent}: folder for --out does not exist\n")
        return EXIT_USAGE
    store: ReviewStore | None = None
    if args.project is not None:
        try:
            store = ReviewStore.open(args.project, exclusive=False)
        except StoreError as exc:
            stderr.write(f"error: {exc}\n")
            return EXIT_USAGE
    with contextlib.closing(store) if store is not None else contextlib.nullcontext():
        return _measure(args, store, stdout, stderr)


def _measure(
    args: argparse.Namespace, store: ReviewStore | None, stdout: IO[str], stderr: IO[str]
) -> int:
    try:
        settings = _settings(args, store.call_settings() if store is not None else _DEFAULTS)
    except CallSettingsError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    if store is not None and settings != store.call_settings():
        try:
            store.set_call_settings(settings)  # the survey's settings from now on
        except STORE_ERRORS as exc:
            stderr.write(f"error: {args.project}: cannot keep the call settings: {exc}\n")
            return EXIT_USAGE
    recordings, missing = find_recordings(list(args.paths))
    for line in missing:
        stderr.write(f"error: {line}\n")
    if not recordings:
        stderr.write("error: no recordings (.wav, .flac) found in the given paths\n")
        return EXIT_USAGE

    failed = len(missing)
    n_calls = from_store = 0
    store_problem = ""
    progress = ProgressBar(len(recordings), stream=stderr)
    try:
        with ExitStack() as stack:
            writer = None
            if args.out is not None:
                writer = CallsCsvWriter(stack.enter_context(AtomicTextFile(args.out)))
            for index, path in enumerate(recordings):
                label = display_path(path)
                try:
                    info = probe_recording(path, time_expansion=args.time_expansion)
                    for warning in info.warnings:
                        progress.message(f"warning: {label}: {warning}")
                    problem = band_problem(settings, info.true_rate_hz)
                    if problem is not None:
                        progress.message(f"warning: {label}: {problem}")
                    calls = _stored(store, info, settings)
                    if calls is not None:
                        from_store += 1
                    else:
                        # Hashed before reading, like the window's job: a file changed while
                        # it is measured is measured again next time.
                        sha = sha256_file(path) if store is not None else ""
                        rows: list[tuple[float, ...]] = []
                        for found in iter_calls(info, settings):
                            rows.extend(found.rows)
                            done = found.done_s / found.duration_s if found.duration_s else 1.0
                            progress.update(index + done, display_path(path.name))
                        calls = CallTable.from_rows(rows)
                        if store is not None:
                            try:
                                store.save_calls(info, settings, calls, sha)
                            except STORE_ERRORS as exc:
                                store_problem = str(exc)
                except (RecordingError, OSError) as exc:
                    failed += 1
                    progress.message(f"error: {label}: {exc}")
                    continue
                n_calls += len(calls)
                if writer is not None:
                    writer.write_recording(str(path), calls, info.time_expansion)
                progress.update(index + 1, display_path(path.name))
            progress.clear()
    except KeyboardInterrupt:
        progress.clear()
        kept = f"; the calls measured so far are kept in {args.project}" if store else ""
        stderr.write(f"interrupted: no CSV was written{kept}\n")
        return EXIT_INTERRUPTED
    except OSError as exc:
        progress.clear()
        stderr.write(f"error: cannot write {args.out}: {exc.strerror or exc}\n")
        return EXIT_SOME_FAILED
    measured = len(recordings) + len(missing) - failed
    if store_problem:
        stderr.write(f"warning: {args.project}: calls not kept in the store: {store_problem}\n")
    if args.out is not None:
        stdout.write(f"wrote {n_calls} calls to {display_path(args.out)}\n")
    else:
        stdout.write(f"kept {n_calls} calls in {display_path(args.project)}\n")
    cached = f" ({from_store} from {args.project})" if store is not None else ""
    stderr.write(f"{measured} measured{cached}, {failed} failed\n")
    return EXIT_SOME_FAILED if failed else EXIT_OK
