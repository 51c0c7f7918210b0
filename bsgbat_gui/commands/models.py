"""``bsgbat-gui models download | verify | list``: install and inspect the BSG-BAT model set."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import IO

from bsgbat_gui.commands.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from bsgbat_gui.commands.progress import ProgressBar
from bsgbat_gui.core.model_card import CHECKSUMS_FILENAME, MODEL_ATTRIBUTION
from bsgbat_gui.core.models.check import ModelSetReport, check_model_set
from bsgbat_gui.core.models.download import (
    DEFAULT_BASE_URL,
    BytesReceived,
    DownloadError,
    FileInstalled,
    FileSkipped,
    FileStarted,
    download_model_set,
)
from bsgbat_gui.core.models.locate import candidate_locations, user_models_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "models",
        help="download, verify and list BSG-BAT model sets",
        description="Install and inspect the BSG-BAT v0.21 model set. " + MODEL_ATTRIBUTION,
    )
    actions = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    d = actions.add_parser(
        "download",
        help="download, verify and install the six models and labels",
        description="Download the release's files, resuming interrupted ones, verify each "
        "against SHA256SUMS and move it into place only when it matches.",
    )
    d.add_argument(
        "--dest",
        type=Path,
        metavar="DIR",
        help=f"where to install (default: the per-user data folder, {user_models_dir()})",
    )
    d.add_argument(
        "--base-url", default=DEFAULT_BASE_URL, metavar="URL", help=f"default: {DEFAULT_BASE_URL}"
    )
    d.set_defaults(run=run_download)
    v = actions.add_parser(
        "verify",
        help="check checksums, I/O contract and labels of a model set",
        description="Check a model set: every file against SHA256SUMS, each model's inputs "
        "and outputs, and the labels. Exit 0 when all is well, 1 otherwise.",
    )
    v.add_argument("folder", nargs="?", type=Path, metavar="DIR", help="default: the one in use")
    v.add_argument("--models", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    v.set_defaults(run=run_verify)
    ls = actions.add_parser(
        "list",
        help="where model sets are looked for and what each holds",
        description="List every place a model set is looked for, in order, with its files.",
    )
    ls.add_argument("--models", type=Path, metavar="DIR", help="also look in this folder first")
    ls.set_defaults(run=run_list)
    add_quantize_parser(actions)


def _megabytes(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


class _DownloadProgress:
    """Bytes, rate and ETA of the file being fetched, on one stderr line."""

    def __init__(self, err: IO[str]) -> None:
        self.bar = ProgressBar(1, stream=err)
        self.err = err
        self.label = ""
        self.started_at = 0.0
        self.first_bytes = 0

    def start(self, event: FileStarted) -> None:
        self.label = f"[{event.index + 1}/{event.count}] {event.name}"
        self.bar = ProgressBar(event.total_bytes or 1, stream=self.err)
        self.started_at = time.monotonic()
        self.first_bytes = event.resumed_from
        if event.resumed_from:
            self.bar.message(
                f"{event.name}: resuming at {_megabytes(event.resumed_from)} "
                f"of {_megabytes(event.total_bytes)}"
            )

    def update(self, event: BytesReceived) -> None:
        elapsed = max(time.monotonic() - self.started_at, 1e-3)
        rate = (event.done_bytes - self.first_bytes) / elapsed
        eta = ""
        if event.total_bytes and rate > 0:
            eta = f", {max(0.0, (event.total_bytes - event.done_bytes) / rate):.0f} s left"
        detail = f"{_megabytes(event.done_bytes)} / {_megabytes(event.total_bytes)}"
        detail += f", {rate / 1e6:.1f} MB/s{eta}"
        self.bar.update(event.done_bytes, f"{self.label} {detail}")

    def finish(self) -> None:
        self.bar.clear()


def run_download(
    args: argparse.Namespace, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    dest: Path = args.dest if args.dest is not None else user_models_dir()
    progress = _DownloadProgress(err)
    fetched = present = 0
    try:
        for event in download_model_set(dest, args.base_url):
            if isinstance(event, FileStarted):
                progress.start(event)
            elif isinstance(event, BytesReceived):
                progress.update(event)
            elif isinstance(event, FileInstalled):
                progress.finish()
                present += event.already_present
                fetched += not event.already_present
                state = "already present, verified" if event.already_present else "verified"
                if event.name == CHECKSUMS_FILENAME:
                    state = "installed (the release's checksums, placed last)"
                out.write(f"{event.name}: {state}\n")
            elif isinstance(event, FileSkipped):
                out.write(f"{event.name}: skipped ({event.reason})\n")
    except DownloadError as exc:
        progress.finish()
        err.write(f"error: {exc}\n")
        return EXIT_FAILED
    except KeyboardInterrupt:
        progress.finish()
        err.write("interrupted: run the command again to resume\n")
        return EXIT_INTERRUPTED
    out.write(f"Model set installed in {dest} ({fetched} downloaded, {present} already there).\n")
    out.write(MODEL_ATTRIBUTION + "\n")
    return EXIT_OK


def _print_report(report: ModelSetReport, out: IO[str]) -> None:
    origin = f" ({report.origin})" if report.origin else ""
    out.write(f"{report.folder}{origin}\n")
    if report.files:
        out.write(f"  labels: {report.n_labels}\n")
    for f in report.files:
        opset = f"opset {f.opset}" if f.opset is not None else "opset ?"
        io_text = f"{f.input_shape} -> {f.output_shape}" if f.input_shape else ""
        out.write(
            f"  {f.name}  {_megabytes(f.size_bytes)}  {f.checksum}  {opset}  {io_text}".rstrip()
            + "\n"
        )
    for problem in report.problems:
        out.write(f"  problem: {problem}\n")
    out.write("  OK\n" if report.ok else "  NOT USABLE AS IS\n")


def run_verify(
    args: argparse.Namespace, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    folder = args.folder or args.models
    if folder is None:
        from bsgbat_gui.core.models.locate import ModelSetError, locate_model_set

        try:
            folder = locate_model_set(None).folder
        except ModelSetError as exc:
            err.write(f"error: {exc}\n")
            return EXIT_FAILED
    report = check_model_set(folder)
    _print_report(report, out)
    if not report.ok:
        err.write(f"error: {report.folder}: {len(report.problems)} problem(s), see above\n")
        return EXIT_FAILED
    return EXIT_OK


def run_list(
    args: argparse.Namespace, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    out = stdout or sys.stdout
    for location in candidate_locations(args.models):
        if not location.folder.is_dir():
            out.write(f"{location.folder} ({location.origin}): no such folder\n")
            continue
        _print_report(check_model_set(location.folder, origin=location.origin), out)
    return EXIT_OK


def add_quantize_parser(actions: argparse._SubParsersAction) -> None:
    q = actions.add_parser(
        "quantize",
        help="derive a validated INT8 copy of a model set (faster on CPUs with int8 dot products)",
        description="Quantise every model to INT8 (ONNX Runtime static quantisation, calibrated "
        "on real model inputs), then validate the INT8 ensemble against FP32 on reference "
        "windows (recordings + random). Refuses, installing nothing, past the tolerance.",
    )
    q.add_argument("--models", type=Path, metavar="DIR", help="FP32 model set (default: in use)")
    q.add_argument("--dest", type=Path, metavar="DIR", help="default: <models folder>-int8")
    q.add_argument(
        "--recordings", type=Path, nargs="*", default=[], metavar="PATH",
        help="recordings whose windows calibrate and validate (plus random windows)",
    )  # fmt: skip
    q.add_argument("--max-diff", type=float, default=None, metavar="P",
                   help="largest allowed probability difference (default 0.01)")  # fmt: skip
    q.set_defaults(run=run_quantize)


def run_quantize(
    args: argparse.Namespace, *, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    from bsgbat_gui.core.analysis.analyse import reference_windows
    from bsgbat_gui.core.audio.recording import find_recordings
    from bsgbat_gui.core.models.locate import ModelSetError, is_quantized, locate_model_set
    from bsgbat_gui.core.models.quantize import INT8_MAX_ABS_DIFF, QuantizeError, quantize_model_set

    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        source = locate_model_set(args.models)
    except ModelSetError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_FAILED
    if is_quantized(source.folder):
        err.write(f"error: {source.folder} is already an INT8 set\n")
        return EXIT_FAILED
    dest = args.dest or source.folder.with_name(source.folder.name + "-int8")
    recordings, _ = find_recordings(list(args.recordings)) if args.recordings else ([], [])
    inputs = reference_windows(recordings, n_random=64)
    try:
        report = quantize_model_set(
            source, dest, inputs,
            max_abs_diff=args.max_diff if args.max_diff is not None else INT8_MAX_ABS_DIFF,
            log=lambda line: err.write(line + "\n"),
        )  # fmt: skip
    except QuantizeError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - ONNX Runtime's quantiser failing on an unexpected graph
        err.write(f"error: quantisation failed, nothing installed: {exc}\n")
        return EXIT_FAILED
    out.write(f"INT8 model set installed in {dest}\n  {report.describe()}\n"
              f"  use it with --models {dest} (or Models > Choose model folder…)\n")  # fmt: skip
    return EXIT_OK
