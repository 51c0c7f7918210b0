"""Entry point.

``bsgbat-gui [PATH...]`` opens the window; ``bsgbat-gui COMMAND ...`` runs headless.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bsgbat_gui import __version__

if TYPE_CHECKING:
    from collections.abc import Sequence

SUBCOMMANDS = (
    "analyze", "benchmark", "calls", "clip", "evaluate", "export", "import-decisions",
    "merge-stores", "models", "render", "report",
)  # fmt: skip


def _subcommand_parser() -> argparse.ArgumentParser:
    from bsgbat_gui.commands import (
        analyze,
        benchmark,
        calls,
        clip,
        evaluate,
        export,
        merge_stores,
        models,
        render,
        report,
    )

    parser = argparse.ArgumentParser(
        prog="bsgbat-gui", description="Review bat recordings with BSG-BAT."
    )
    parser.add_argument("--version", action="version", version=f"bsgbat-gui {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    analyze.add_parser(subparsers)
    benchmark.add_parser(subparsers)
    calls.add_parser(subparsers)
    clip.add_parser(subparsers)
    evaluate.add_parser(subparsers)
    export.add_parsers(subparsers)
    merge_stores.add_parser(subparsers)
    models.add_parser(subparsers)
    render.add_parser(subparsers)
    report.add_parser(subparsers)
    return parser


def _gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bsgbat-gui",
        description="Review bat survey recordings with the BSG-BAT ensemble. "
        f"Headless commands: {', '.join(SUBCOMMANDS)} (bsgbat-gui COMMAND --help).",
    )
    parser.add_argument("--version", action="version", version=f"bsgbat-gui {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="recordings or folders to open"
    )
    parser.add_argument("--models", type=Path, metavar="DIR", help="model set folder")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="open the window offscreen on the built-in demo recording, check its spectrogram "
        "is drawn and ONNX Runtime works, exit 0 (or 1 with the reason): a smoke test of an "
        "installation or a packaged build",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # The GUI runs its analysis in child processes; a frozen (packaged) build needs this hook so
    # that a child started from the app's executable runs the child's code, not a second window.
    multiprocessing.freeze_support()
    args_list = list(sys.argv[1:] if argv is None else argv)
    first_positional = next((a for a in args_list if not a.startswith("-")), None)
    if first_positional in SUBCOMMANDS:
        args = _subcommand_parser().parse_args(args_list)
    else:
        args = _gui_parser().parse_args(args_list)
        args.run = None
    level = logging.DEBUG if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)  # stderr stays at this level when a log file takes INFO
    if args.run is not None:
        return int(args.run(args))
    if args.self_test:
        from bsgbat_gui.gui.self_test import run_self_test

        return run_self_test(args.models)
    from bsgbat_gui.gui.app import run_gui

    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())
