"""``bsgbat-gui benchmark``: reproducible performance numbers, printed and optionally as JSON.

With ``--synthetic`` (or ``--models DIR``), on the same machine in one run:

* throughput of our ``analyze`` pipeline against the model card's snippet, alternating, on the
  same short recordings and models (:mod:`bsgbat_gui.benchmark.throughput`), the largest
  probability difference between the two, and the share of our time inside ONNX Runtime;
* peak memory analysing one ``--long-minutes`` 384 kHz recording, ours and the card's, each in a
  fresh process (:mod:`bsgbat_gui.benchmark.memory`);
* the window: first spectrogram and first track of a 5 s recording, longest event-loop stall
  while a folder is analysed (:mod:`bsgbat_gui.benchmark.window_timing`);
* the threshold/combine latency at 7,200 segments (:mod:`bsgbat_gui.benchmark.gui_latency`);
* an INT8 copy of the models: speed and probability difference against FP32.

Without a model set only the GUI latency is measured.

``--calls`` measures call measurement instead (:mod:`bsgbat_gui.benchmark.calls`): its speed
against real time and its peak memory on one ``--long-minutes`` synthetic 384 kHz recording
with bat-like calls, in a fresh process; and the window's linear-frequency view of a 10 s span
(:mod:`bsgbat_gui.benchmark.linear_view`), also in a fresh process.

``--startup`` measures the first minute instead (:mod:`bsgbat_gui.benchmark.startup`): cold and
warm starts, the first spectrogram, the same on a busy computer, a folder's cached tracks, and
quitting — each in a fresh process, as a user starts the app.

``--season`` measures a season in one review store instead (:mod:`bsgbat_gui.benchmark.season`):
a synthetic survey of ``--season-recordings`` recordings (100,000 by default; sparse WAV files,
their analyses and 5 % of them reviewed written straight into the store) opened in the window,
its threshold, filter, sort and "next unreviewed" latencies, the export of its verified
detections and appending to it as ``analyze --project`` does — each in a fresh process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from bsgbat_gui import __version__
from bsgbat_gui.commands.exit_codes import EXIT_FAILED, EXIT_OK
from bsgbat_gui.core.files import AtomicTextFile

if TYPE_CHECKING:
    import argparse

TARGETS = {  # key: (comparison, target) as the performance issue states them
    "throughput_ratio": (">=", 1.0),
    "max_abs_diff": ("<=", 1e-4),
    "ort_time_fraction": (">=", 0.9),
    "peak_rss_mb_long": ("<=", 1500.0),
    "first_spectrogram_ms": ("<=", 200.0),
    "threshold_update_ms": ("<=", 30.0),
    "max_gui_stall_ms": ("<=", 50.0),
    "int8_speedup": (">=", 2.0),
    # The first minute (benchmark --startup).
    "cold_window_ms": ("<=", 2000.0),
    "cold_demo_spectrogram_ms": ("<=", 3000.0),
    "warm_window_ms": ("<=", 1500.0),
    "warm_first_spectrogram_ms": ("<=", 500.0),
    "busy_first_spectrogram_ms": ("<=", 1000.0),
    "busy_cached_tracks_ms": ("<=", 1000.0),
    "quit_ms": ("<=", 1000.0),
    # Call measurement (benchmark --calls).
    "calls_realtime_factor": (">=", 20.0),
    "calls_peak_extra_rss_mb": ("<=", 500.0),
    # The linear-frequency view of a 10 s span, computed, set and painted (benchmark --calls).
    "linear_view_10s_ms": ("<=", 150.0),
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "benchmark",
        help="measure performance: throughput vs the model card's code, memory, GUI latency",
        description="Measure bsgbat-gui against the model card's reference code on this "
        "machine; prints a table, optionally JSON.",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--models", type=Path, metavar="DIR", help="benchmark this model set")
    source.add_argument(
        "--synthetic", action="store_true",
        help="build six random-weight models shaped like the release (~80 MB each) in a temp "
        "folder and benchmark with them (no download needed)",
    )  # fmt: skip
    p.add_argument("--long-minutes", type=float, default=60.0, metavar="M",
                   help="length of the long recording for peak memory (default 60)")  # fmt: skip
    p.add_argument("--files", type=int, default=24, metavar="N",
                   help="short recordings for the throughput comparison (default 24)")  # fmt: skip
    p.add_argument("--repeats", type=int, default=3, metavar="N",
                   help="alternating throughput runs (default 3)")  # fmt: skip
    p.add_argument("--latency-repeats", type=int, default=40, metavar="N",
                   help="threshold and combine changes measured (default 40)")  # fmt: skip
    p.add_argument(
        "--startup", action="store_true",
        help="measure the first minute only: cold and warm start, first spectrogram, the same "
        "on a busy computer, cached tracks, quitting (each in a fresh process); with "
        "--synthetic models unless --models is given",
    )  # fmt: skip
    p.add_argument(
        "--calls", action="store_true",
        help="measure call measurement only: speed against real time and peak memory on one "
        "--long-minutes synthetic 384 kHz recording, in a fresh process (no models needed)",
    )  # fmt: skip
    p.add_argument(
        "--season", action="store_true",
        help="measure a season in one review store only: a synthetic survey (sparse WAV files, "
        "their analyses written into the store, 5 %% reviewed) opened in the window, threshold, "
        "filter, sort and next-unreviewed latencies, export and analyze --project appends "
        "(each in a fresh process; no models needed)",
    )  # fmt: skip
    p.add_argument("--season-recordings", type=int, default=100_000, metavar="N",
                   help="recordings in the --season survey (default 100000)")  # fmt: skip
    p.add_argument("--json", type=Path, metavar="OUT.json", help="also write the numbers here")
    p.set_defaults(run=run)


def _meets(key: str, value: float) -> str:
    if key not in TARGETS:
        return ""
    op, target = TARGETS[key]
    ok = value >= target if op == ">=" else value <= target
    return f"{'meets' if ok else 'MISSES'} {op} {target:g}"


def run(
    args: argparse.Namespace, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    if args.json is not None and not args.json.parent.resolve().is_dir():
        err.write(f"error: cannot write {args.json}: folder {args.json.parent} does not exist\n")
        return EXIT_FAILED

    def log(line: str) -> None:
        err.write(line + "\n")
        err.flush()

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bsgbat-benchmark-") as tmp:
        work = Path(tmp)
        models: Path | None = args.models
        if args.season:
            from bsgbat_gui.benchmark.season import measure_season

            try:
                results.update(measure_season(work, max(10, args.season_recordings), log))
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                err.write(f"error: {exc}\n")
                return EXIT_FAILED
        elif args.calls:
            try:
                results.update(_calls_benchmark(work, args.long_minutes, log))
                from bsgbat_gui.benchmark.linear_view import measure_linear_view_in_subprocess

                log("linear view: 10 s spans of a 60 s recording in the window (offscreen)…")
                results.update(measure_linear_view_in_subprocess())
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                err.write(f"error: {exc}\n")
                return EXIT_FAILED
        elif args.synthetic or (args.startup and models is None):
            from bsgbat_gui.benchmark.shaped_models import n_parameters, write_shaped_model_set

            log(f"building six release-shaped random models ({n_parameters() / 1e6:.1f} M "
                "parameters each)…")  # fmt: skip
            models = write_shaped_model_set(work / "models")
        if args.calls or args.season:
            pass  # measured above, alone
        elif args.startup:
            assert models is not None
            from dataclasses import asdict

            from bsgbat_gui.benchmark.startup import measure_startup

            try:
                results.update(asdict(measure_startup(models, work / "startup", log)))
            except (RuntimeError, OSError) as exc:
                err.write(f"error: {exc}\n")
                return EXIT_FAILED
        elif models is not None:
            try:
                results.update(_model_benchmarks(models, work, args, log))
            except Exception as exc:  # noqa: BLE001 - a benchmark that fails says so, with what it measured
                err.write(f"error: {type(exc).__name__}: {exc}\n")
                return EXIT_FAILED
        if not args.startup and not args.calls and not args.season:
            from bsgbat_gui.benchmark.gui_latency import measure_threshold_latency

            log("GUI latency: 60-minute synthetic analysis in the window (offscreen)…")
            latency = measure_threshold_latency(repeats=max(1, args.latency_repeats), log=log)
            results.update(
                threshold_update_ms=round(latency.threshold_update_ms, 2),
                threshold_update_p95_ms=round(latency.threshold_update_p95_ms, 2),
                combine_update_ms=round(latency.combine_update_ms, 2),
                combine_update_p95_ms=round(latency.combine_update_p95_ms, 2),
                latency_segments=latency.n_segments,
                latency_events=latency.n_events,
            )
    out.write(f"bsgbat-gui {__version__} benchmark\n")
    width = max([30, *(len(key) for key in results)])
    for key, value in results.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        verdict = _meets(key, value) if isinstance(value, (int, float)) else ""
        out.write(f"  {key:<{width}} {shown:>12}   {verdict}\n")
    if args.json is not None:
        try:
            with AtomicTextFile(args.json) as f:
                f.write(json.dumps(results, indent=2) + "\n")
        except OSError as exc:
            err.write(f"error: cannot write {args.json}: {exc.strerror or exc}\n")
            return EXIT_FAILED
        out.write(f"wrote {args.json}\n")
    return EXIT_OK


def _calls_benchmark(work: Path, minutes: float, log: Any) -> dict[str, Any]:
    from bsgbat_gui.benchmark.calls import measure_calls_in_subprocess
    from bsgbat_gui.benchmark.recordings import write_long_recording

    log(f"calls: writing a {minutes:g}-minute 384 kHz recording with bat-like calls…")
    wav = write_long_recording(work / "calls.wav", minutes)
    log("calls: measuring them in a fresh process…")
    result = measure_calls_in_subprocess(wav, timeout_s=600 + 60 * minutes)
    wav.unlink()
    log(f"  {result.calls} calls in {result.seconds:.1f} s, peak {result.peak_rss_mb:.0f} MB "
        f"({result.baseline_rss_mb:.0f} MB before measuring)")  # fmt: skip
    return {
        "calls_realtime_factor": round(result.realtime_factor, 1),
        "calls_peak_extra_rss_mb": round(result.peak_extra_rss_mb, 1),
        "calls_seconds": result.seconds,
        "calls_found": result.calls,
        "calls_minutes": minutes,
    }


def _model_benchmarks(
    models: Path, work: Path, args: argparse.Namespace, log: Any
) -> dict[str, Any]:
    from bsgbat_gui.benchmark.memory import measure_in_subprocess
    from bsgbat_gui.benchmark.recordings import write_long_recording, write_short_recordings
    from bsgbat_gui.benchmark.throughput import measure_throughput
    from bsgbat_gui.benchmark.window_timing import measure_window_in_subprocess
    from bsgbat_gui.core.models.locate import read_model_set

    model_set = read_model_set(models)
    results: dict[str, Any] = {}
    paths = write_short_recordings(work / "night", count=max(2, args.files))
    log(f"throughput: {len(paths)} short recordings, ours vs the card's code, "
        f"{args.repeats} alternating runs…")  # fmt: skip
    tp = measure_throughput(paths, model_set, repeats=max(1, args.repeats), log=log)
    results.update(
        segments_per_s=round(tp.segments_per_s, 3),
        reference_segments_per_s=round(tp.reference_segments_per_s, 3),
        throughput_ratio=round(tp.segments_per_s / tp.reference_segments_per_s, 3),
        max_abs_diff=float(f"{tp.max_abs_diff:.3g}"),
        ort_time_fraction=round(tp.ort_time_fraction, 3),
    )

    log(f"peak memory: one {args.long_minutes:g}-minute 384 kHz recording, each side in a "
        "fresh process…")  # fmt: skip
    long_wav = write_long_recording(work / "long.wav", args.long_minutes)
    timeout = 600 + 60 * args.long_minutes * 3
    ours = measure_in_subprocess("ours", long_wav, models, timeout)
    log(f"  ours: {ours.peak_rss_mb:.0f} MB peak, {ours.seconds:.0f} s, {ours.segments} windows")
    try:
        ref = measure_in_subprocess("reference", long_wav, models, timeout)
        log(f"  card: {ref.peak_rss_mb:.0f} MB peak, {ref.seconds:.0f} s, {ref.segments} windows")
        reference_peak: float | str = ref.peak_rss_mb
    except (RuntimeError, OSError) as exc:  # e.g. killed for memory: that is the finding
        log(f"  card: failed ({exc})")
        reference_peak = f"failed: {exc}"
    long_wav.unlink()
    results.update(peak_rss_mb_long=ours.peak_rss_mb, reference_peak_rss_mb_long=reference_peak,
                   long_minutes=args.long_minutes)  # fmt: skip

    log("window: opening a 5 s recording, then analysing a folder (offscreen, fresh process)…")
    window = measure_window_in_subprocess(models)
    log(f"  longest garbage-collector pass during the folder: {window.max_gc_pause_ms:.1f} ms")
    results.update(
        first_spectrogram_ms=round(window.first_spectrogram_ms, 1),
        first_track_ms=round(window.first_track_ms, 1),
        max_gui_stall_ms=round(window.max_gui_stall_ms, 1),
    )

    results.update(_int8(model_set, work, paths, log))
    return results


def _int8(model_set: Any, work: Path, paths: list[Path], log: Any) -> dict[str, Any]:
    """Speed and difference of an INT8 copy (built here, not installed, not validated: the
    numbers say whether ``models quantize`` would accept it)."""
    import shutil
    import time

    from bsgbat_gui.core.analysis.analyse import reference_windows
    from bsgbat_gui.core.model_card import LABELS_FILENAME
    from bsgbat_gui.core.models.ensemble import Ensemble
    from bsgbat_gui.core.models.locate import read_model_set
    from bsgbat_gui.core.models.quantize import (
        INT8_MAX_ABS_DIFF,
        ensemble_probabilities,
        quantize_model,
    )

    log("INT8: quantising the models and timing them against FP32…")
    inputs = reference_windows(paths, n_random=32, limit=96)
    folder = work / "int8"
    folder.mkdir()
    for path in model_set.model_paths:
        quantize_model(path, folder / path.name, inputs[:64])
    shutil.copy2(model_set.folder / LABELS_FILENAME, folder / LABELS_FILENAME)
    fp32, int8 = Ensemble(model_set), Ensemble(read_model_set(folder))
    rates = {}
    probabilities = {}
    for name, ensemble in (("fp32", fp32), ("int8", int8)):
        ensemble_probabilities(ensemble, inputs[:16])  # warm
        best = 0.0
        for _ in range(3):
            started = time.perf_counter()
            p = ensemble_probabilities(ensemble, inputs)
            best = max(best, len(inputs) / (time.perf_counter() - started))
        rates[name], probabilities[name] = best, p
    diff = float(abs(probabilities["fp32"].astype(float) - probabilities["int8"]).max())
    log(f"  FP32 {rates['fp32']:.1f}, INT8 {rates['int8']:.1f} windows/s; max |Δp| {diff:.3g} "
        f"({'within' if diff <= INT8_MAX_ABS_DIFF else 'beyond'} the {INT8_MAX_ABS_DIFF:g} "
        "that models quantize requires)")  # fmt: skip
    return {
        "int8_segments_per_s": round(rates["int8"], 2),
        "int8_speedup": round(rates["int8"] / rates["fp32"], 3),
        "int8_max_abs_diff": float(f"{diff:.3g}"),
        "cpu_int8_dot_product": _cpu_has_int8_dot_product(),
    }


def _cpu_has_int8_dot_product() -> str:
    """Which integer dot-product extension the CPU reports (Linux), or "unknown"."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return "unknown"
    found = [f for f in ("avx512_vnni", "avx_vnni", "amx_int8", "asimddp") if f in flags]
    return ",".join(found) or "none"
