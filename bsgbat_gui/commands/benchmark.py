"""``bsgbat-gui benchmark``: reproducible performance numbers, printed and optionally as JSON.

Measured so far: how long the window takes to show a threshold change and a combine-method
change on a 60-minute recording (7,200 segments; see :mod:`bsgbat_gui.benchmark.gui_latency`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO

from bsgbat_gui import __version__
from bsgbat_gui.core.export import AtomicTextFile

EXIT_OK = 0
EXIT_FAILED = 1
LATENCY_TARGET_MS = 30.0  # issue: a threshold change shows within 30 ms at 7,200 segments


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "benchmark",
        help="measure performance (GUI latency on a 60-minute recording)",
        description="Measure how fast bsgbat-gui responds; prints a table, optionally JSON.",
    )
    p.add_argument("--json", type=Path, metavar="OUT.json", help="also write the numbers here")
    p.add_argument(
        "--repeats", type=int, default=40, metavar="N", help="changes measured per kind (40)"
    )
    p.set_defaults(run=run)


def run(
    args: argparse.Namespace, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    if args.json is not None and not args.json.parent.resolve().is_dir():
        err.write(f"error: cannot write {args.json}: folder {args.json.parent} does not exist\n")
        return EXIT_FAILED
    from bsgbat_gui.benchmark.gui_latency import measure_threshold_latency

    def log(line: str) -> None:
        err.write(line + "\n")

    err.write("GUI latency: 60-minute synthetic analysis in the window (offscreen)…\n")
    latency = measure_threshold_latency(repeats=max(1, args.repeats), log=log)
    results = {
        "threshold_update_ms": round(latency.threshold_update_ms, 2),
        "threshold_update_p95_ms": round(latency.threshold_update_p95_ms, 2),
        "combine_update_ms": round(latency.combine_update_ms, 2),
        "combine_update_p95_ms": round(latency.combine_update_p95_ms, 2),
        "latency_segments": latency.n_segments,
        "latency_events": latency.n_events,
    }
    rows = [
        ("threshold change → tracks, shading, table (median)", results["threshold_update_ms"]),
        ("threshold change (95th percentile)", results["threshold_update_p95_ms"]),
        ("combine change → same (median)", results["combine_update_ms"]),
        ("combine change (95th percentile)", results["combine_update_p95_ms"]),
    ]
    out.write(f"bsgbat-gui {__version__} benchmark\n")
    for name, value in rows:
        out.write(f"  {name:<55} {value:8.2f} ms\n")
    out.write(
        f"  ({latency.n_segments} segments, {latency.n_events} events at 0.5; "
        f"target ≤ {LATENCY_TARGET_MS:g} ms)\n"
    )
    if args.json is not None:
        try:
            with AtomicTextFile(args.json) as f:
                f.write(json.dumps(results, indent=2) + "\n")
        except OSError as exc:
            err.write(f"error: cannot write {args.json}: {exc.strerror or exc}\n")
            return EXIT_FAILED
        out.write(f"wrote {args.json}\n")
    return EXIT_OK
