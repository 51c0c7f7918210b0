"""The first minute, measured as a user meets it: ``bsgbat-gui benchmark --startup``.

Every measurement starts ``python -m bsgbat_gui`` anew (offscreen), with its own settings, data
and cache folders, and reads the moments the app's start-up probe records
(:mod:`bsgbat_gui.gui.startup_probe`):

* ``cold_window_ms`` — a first start (new settings and data folders, a new numba cache):
  process start to window painted; ``cold_demo_spectrogram_ms`` — then Open demo, to the demo's
  spectrogram painted;
* ``warm_window_ms`` — the next start; ``warm_first_spectrogram_ms`` — then opening a 5 s
  recording, to its spectrogram painted;
* ``busy_first_spectrogram_ms`` and ``busy_cached_tracks_ms`` — the same with two busy-loop
  processes at normal priority using the CPU; the second opens a folder analysed before, to
  the shown recording's tracks set;
* ``quit_ms`` — Ctrl+Q (the window closed) while a folder is being analysed, to the process
  gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bsgbat_gui.benchmark.recordings import bat_calls, write_short_recordings
from bsgbat_gui.core.model_card import MODEL_SAMPLE_RATE_HZ
from bsgbat_gui.gui.startup_probe import ACTION_ENV, EXIT_ON_ENV, PROBE_ENV

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

APP_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class StartupTimings:
    cold_window_ms: float
    cold_demo_spectrogram_ms: float
    warm_window_ms: float
    warm_first_spectrogram_ms: float
    busy_first_spectrogram_ms: float
    busy_cached_tracks_ms: float
    quit_ms: float


class _Home:
    """A user's folders for one simulated installation (settings, data, caches)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            QT_QPA_PLATFORM="offscreen",
            XDG_CONFIG_HOME=str(self.root / "config"),
            XDG_DATA_HOME=str(self.root / "data"),
            XDG_CACHE_HOME=str(self.root / "cache"),
            NUMBA_CACHE_DIR=str(self.root / "numba"),  # a first start compiles from nothing
        )
        env.pop(PROBE_ENV, None)
        return env


def _run_app(
    home: _Home, args: list[str], *, action: str = "", exit_on: str, label: str
) -> tuple[float, dict[str, float], float]:
    """Start the app, wait for it to exit (it quits itself at ``exit_on``); returns the start
    time, the recorded moments and the exit time (wall clock)."""
    probe = home.root / f"{label}.jsonl"
    probe.unlink(missing_ok=True)
    env = home.env()
    env.update({PROBE_ENV: str(probe), ACTION_ENV: action, EXIT_ON_ENV: exit_on})
    started = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bsgbat_gui", *args], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _, stderr = proc.communicate(timeout=APP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise RuntimeError(
            f"{label}: the app did not finish within {APP_TIMEOUT_S:.0f} s"
        ) from None
    ended = time.time()
    events: dict[str, float] = {}
    if probe.exists():
        for line in probe.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            events.setdefault(record["event"], float(record["t"]))
    if exit_on not in events:
        tail = " | ".join(stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{label}: no {exit_on!r} moment (exit {proc.returncode}): {tail}")
    return started, events, ended


def _ms(later: float, earlier: float) -> float:
    return round((later - earlier) * 1000, 1)


@contextlib.contextmanager
def _busy_cpu(n: int = 2) -> Iterator[None]:
    """``n`` processes spinning at normal priority, as other programs would."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(0.5)
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def measure_startup(models: Path, work: Path, log=print) -> StartupTimings:
    import soundfile

    models_args = ["--models", str(models)]
    five = work / "recordings" / "five-seconds.wav"
    five.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(five), bat_calls(MODEL_SAMPLE_RATE_HZ, 5.0), MODEL_SAMPLE_RATE_HZ)
    home = _Home(work / "home")

    log("startup: first start (fresh settings, data and caches), then Open demo…")
    started, events, _ = _run_app(home, models_args, action="demo",
                                  exit_on="spectrogram_shown", label="cold")  # fmt: skip
    cold_window = _ms(events["window_painted"], started)
    cold_demo = _ms(events["spectrogram_shown"], events["action"])

    log("startup: second start, then opening a 5 s recording…")
    started, events, _ = _run_app(home, models_args, exit_on="window_painted", label="warm")
    warm_window = _ms(events["window_painted"], started)
    _, events, _ = _run_app(home, models_args, action=f"open:{five}",
                            exit_on="spectrogram_shown", label="warm-open")  # fmt: skip
    warm_spectrogram = _ms(events["spectrogram_shown"], events["action"])

    # A folder analysed before: its analyses are in its review store.
    night = work / "night"
    write_short_recordings(night, count=6, seconds=3.0)
    log("startup: analysing a folder into its review store (for the cached-tracks case)…")
    # As a user would: the `analyze` command in its own process.
    analyse = subprocess.run(
        [sys.executable, "-m", "bsgbat_gui", "analyze", str(night), *models_args, "--project",
         str(night / "bsgbat-review.sqlite")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if analyse.returncode != 0:
        raise RuntimeError(f"analyze --project failed: {analyse.stderr.strip()}")

    log("startup: the same with two busy processes using the CPU…")
    with _busy_cpu():
        _, events, _ = _run_app(home, models_args, action=f"open:{five}",
                                exit_on="spectrogram_shown", label="busy-open")  # fmt: skip
        busy_spectrogram = _ms(events["spectrogram_shown"], events["action"])
        _, events, _ = _run_app(home, models_args, action=f"open:{night}",
                                exit_on="tracks_shown", label="busy-cached")  # fmt: skip
        busy_cached = _ms(events["tracks_shown"], events["action"])

    log("startup: Ctrl+Q while a folder is analysed…")
    fresh = work / "night-unanalysed"
    write_short_recordings(fresh, count=6, seconds=3.0)
    _, events, ended = _run_app(home, [*models_args, str(fresh)], action="quit",
                                exit_on="quit", label="quit")  # fmt: skip
    quit_ms = _ms(ended, events["quit"])
    return StartupTimings(
        cold_window,
        cold_demo,
        warm_window,
        warm_spectrogram,
        busy_spectrogram,
        busy_cached,
        quit_ms,
    )
