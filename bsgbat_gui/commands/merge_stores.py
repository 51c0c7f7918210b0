"""``bsgbat-gui merge-stores``: join review stores analysed separately (job arrays, laptops)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bsgbat_gui.commands.exit_codes import EXIT_OK, EXIT_USAGE
from bsgbat_gui.core.review.merge import MergeError, merge_stores

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "merge-stores",
        help="merge review stores analysed separately (job arrays, several computers)",
        description="Merge review stores into a new one: recordings (by their path in the "
        "survey folder), analyses, every decision with its reviewer and time, recording marks "
        "and call measurements. Analyses by different model sets are refused unless asked for.",
    )
    p.add_argument("out", type=Path, metavar="OUT.sqlite", help="the new, merged store")
    p.add_argument(
        "stores", nargs="+", type=Path, metavar="STORE.sqlite", help="the stores to merge"
    )
    p.add_argument(
        "--allow-mixed-models",
        action="store_true",
        help="merge analyses made by different model sets (each kept under its model set)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.set_defaults(run=run)


def run(
    args: argparse.Namespace, *, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    try:
        report = merge_stores(
            args.out,
            args.stores,
            allow_mixed_models=args.allow_mixed_models,
            overwrite=args.overwrite,
        )
    except MergeError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    for note in report.notes:
        stderr.write(f"note: {note}\n")
    duplicates = (
        f" ({report.duplicate_decisions} found twice, kept once)"
        if report.duplicate_decisions
        else ""
    )
    stderr.write(
        f"merged {report.stores} stores into {args.out}: {report.recordings} recordings, "
        f"{report.analyses} analyses, {report.decisions} decisions{duplicates}, "
        f"{report.call_measurements} call measurements\n"
    )
    return EXIT_OK
