"""The ``calls`` CSV: one row per call, for programs to read (names verbatim, cells quoted by
:class:`~bsgbat_gui.core.csv_text.CsvWriter`), written through :mod:`bsgbat_gui.core.files`.
"""

from __future__ import annotations

import math
from typing import IO, TYPE_CHECKING

from bsgbat_gui.core.csv_text import CsvWriter

if TYPE_CHECKING:
    from bsgbat_gui.core.calls.parameters import CallTable

# `bsgbat-gui calls --out`: exactly these columns (README "Call measurement" defines each).
CALLS_CSV_COLUMNS = (
    "file",
    "call",
    "start_s",
    "end_s",
    "duration_ms",
    "fmax_khz",
    "fmin_khz",
    "bandwidth_khz",
    "fme_khz",
    "slope_khz_per_ms",
    "peak_level_db",
    "snr_db",
    "interval_ms",
    "time_expansion",
)

# Decimals per column: times to 0.1 ms, frequencies to 10 Hz, levels to 0.01 dB.
_DECIMALS = {
    "start_s": 4,
    "end_s": 4,
    "duration_ms": 2,
    "fmax_khz": 2,
    "fmin_khz": 2,
    "bandwidth_khz": 2,
    "fme_khz": 2,
    "slope_khz_per_ms": 3,
    "peak_level_db": 2,
    "snr_db": 2,
    "interval_ms": 2,
}


def _number(value: float, decimals: int) -> str:
    return "" if math.isnan(value) else f"{value:.{decimals}f}"


class CallsCsvWriter:
    """The calls CSV: the header, then :meth:`write_recording` per recording.

    Columns :data:`CALLS_CSV_COLUMNS`: the recording's path as given or found, the call's
    number in the recording (1, 2, … in order of start), its parameters in real units, and
    the recording's time-expansion factor (1 for real-time recordings). ``interval_ms`` is
    empty for a recording's first call.
    """

    def __init__(self, out: IO[str]) -> None:
        self._writer = CsvWriter(out)
        self._writer.writerow(CALLS_CSV_COLUMNS)

    def write_recording(self, file_label: str, calls: CallTable, time_expansion: float) -> None:
        """Write a recording's rows."""
        columns = [(getattr(calls, name), digits) for name, digits in _DECIMALS.items()]
        te = f"{time_expansion:g}"
        for i in range(len(calls)):
            self._writer.writerow(
                [
                    file_label,
                    i + 1,
                    *(_number(float(values[i]), digits) for values, digits in columns),
                    te,
                ]
            )
