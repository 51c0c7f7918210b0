"""Hooks the cluster tests run on Dask workers before each recording (``before_each``): they
slow a task down, or kill its worker. Module-level functions, so a worker process imports them
by name (this folder is on the workers' ``sys.path``, inherited from the test process)."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def hold_until_killed(control: Path, path: Path) -> None:
    """For ``slow.wav``: say which worker runs it (``started-PID`` in ``control``), then wait
    until the test has killed a worker (``control/killed``) — the rerun passes straight through."""
    if path.name != "slow.wav":
        return
    (control / f"started-{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while not (control / "killed").exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def kill_on_poison(path: Path) -> None:
    """``poison.wav`` kills whichever worker analyses it, every time."""
    if path.name == "poison.wav":
        os._exit(1)


def slow(path: Path) -> None:
    """Every recording takes a while: a run long enough to be killed part-way."""
    time.sleep(0.4)
