"""A measurement in a fresh Python process, as the app runs (imports, caches and memory of its
own): ``python -m MODULE ARGS``, whose last line of output is the JSON of what it measured."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence


def run_measurement(
    module: str, args: Sequence[str] = (), *, timeout_s: float, what: str
) -> dict[str, Any]:
    """The JSON object ``python -m module *args`` printed last; RuntimeError saying ``what``
    failed, with the last lines of its error output, when it exits with an error."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True, text=True, timeout=timeout_s,
    )  # fmt: skip
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {tail}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result
