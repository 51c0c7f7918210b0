"""Speed and memory of call measurement on one long recording, in a fresh process.

Run as ``python -m bsgbat_gui.benchmark.calls WAV``: measures the file's calls and prints one
JSON line ``{"seconds": …, "duration_s": …, "calls": …, "baseline_rss_mb": …,
"peak_rss_mb": …}``. The baseline is the process's size once everything is imported, so the
peak's excess over it is what measuring the calls took.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bsgbat_gui.benchmark.child import run_measurement
from bsgbat_gui.benchmark.memory import _peak_rss_mb


@dataclass(frozen=True)
class CallsBenchmark:
    seconds: float
    duration_s: float
    calls: int
    baseline_rss_mb: float
    peak_rss_mb: float

    @property
    def realtime_factor(self) -> float:
        return self.duration_s / self.seconds

    @property
    def peak_extra_rss_mb(self) -> float:
        return self.peak_rss_mb - self.baseline_rss_mb


def _current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _peak_rss_mb()


def measure_calls_in_subprocess(wav: Path, timeout_s: float) -> CallsBenchmark:
    """Measure ``wav``'s calls in a new Python process; RuntimeError with its stderr on failure."""
    result = run_measurement(
        "bsgbat_gui.benchmark.calls", [str(wav)], timeout_s=timeout_s, what="call measurement"
    )
    return CallsBenchmark(**result)


def main(argv: list[str]) -> int:
    # Imported before the baseline: the measurement's libraries are not what it costs.
    import scipy.fft
    import scipy.ndimage  # noqa: F401

    from bsgbat_gui.core.audio.recording import probe_recording
    from bsgbat_gui.core.calls.detect import measure_calls

    info = probe_recording(Path(argv[0]))
    baseline = _current_rss_mb()
    started = time.perf_counter()
    calls = measure_calls(info)
    seconds = time.perf_counter() - started
    result = {
        "seconds": round(seconds, 2),
        "duration_s": round(info.duration_s, 3),
        "calls": len(calls),
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
