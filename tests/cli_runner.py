"""Running a subcommand in the test process, as ``bsgbat-gui …`` would."""

from __future__ import annotations

import io

from bsgbat_gui.__main__ import _subcommand_parser


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``bsgbat-gui ARGV…``."""
    args = _subcommand_parser().parse_args(argv)
    stdout, stderr = io.StringIO(), io.StringIO()
    rc = args.run(args, stdout=stdout, stderr=stderr)
    return rc, stdout.getvalue(), stderr.getvalue()
