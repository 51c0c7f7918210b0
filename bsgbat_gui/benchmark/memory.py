"""Peak memory of analysing one long recording, ours or the card's, each in a fresh process.

Run as ``python -m bsgbat_gui.benchmark.memory ours|reference WAV MODELS_DIR``: analyses the file
and prints one JSON line ``{"peak_rss_mb": …, "seconds": …, "segments": …}`` (peak resident set
size of this process, from ``getrusage``). A fresh process per side means neither inherits the
other's allocations.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MemoryResult:
    peak_rss_mb: float
    seconds: float
    segments: int


def _peak_rss_mb() -> float:
    """This process's peak resident set size.

    Linux: ``VmHWM`` from ``/proc/self/status``. Not ``getrusage``: its ``ru_maxrss`` survives
    ``exec``, so a child started by a large parent reports the parent's size at the fork.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20  # KiB on Linux, B on macOS


def _run_ours(wav: Path, models: Path) -> int:
    from bsgbat_gui.core.analysis.analyse import RecordingAnalysed
    from bsgbat_gui.core.analysis.pipeline import analyse_recordings
    from bsgbat_gui.core.models.ensemble import Ensemble
    from bsgbat_gui.core.models.locate import locate_model_set

    ensemble = Ensemble(locate_model_set(models))
    n = 0
    for event in analyse_recordings([wav], ensemble):
        if isinstance(event, RecordingAnalysed):
            n = len(event.analysis.windows)
    return n


def _run_reference(wav: Path, models: Path) -> int:
    from bsgbat_gui.benchmark.reference import reference_probabilities, reference_sessions
    from bsgbat_gui.core.models.locate import locate_model_set

    sessions = reference_sessions(locate_model_set(models).model_paths)
    return len(reference_probabilities(wav, sessions))


def measure_in_subprocess(side: str, wav: Path, models: Path, timeout_s: float) -> MemoryResult:
    """Analyse ``wav`` in a new Python process; raises RuntimeError with its stderr on failure."""
    proc = subprocess.run(
        [sys.executable, "-m", "bsgbat_gui.benchmark.memory", side, str(wav), str(models)],
        capture_output=True, text=True, timeout=timeout_s,
    )  # fmt: skip
    if proc.returncode < 0:
        reason = "killed (out of memory)" if proc.returncode == -9 else f"signal {-proc.returncode}"
        raise RuntimeError(f"{side} analysis {reason}")
    if "Failed to allocate memory" in proc.stderr:
        size = re.search(r"buffer of size (\d+)", proc.stderr)
        wanted = f" ({int(size.group(1)) / 1e9:.1f} GB requested)" if size else ""
        raise RuntimeError(f"{side} analysis out of memory{wanted}")
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        raise RuntimeError(f"{side} analysis failed (exit {proc.returncode}): {' | '.join(tail)}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return MemoryResult(result["peak_rss_mb"], result["seconds"], result["segments"])


def main(argv: list[str]) -> int:
    side, wav, models = argv[0], Path(argv[1]), Path(argv[2])
    started = time.perf_counter()
    segments = (_run_ours if side == "ours" else _run_reference)(wav, models)
    result = {
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "seconds": round(time.perf_counter() - started, 2),
        "segments": segments,
    }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
