"""CSV hygiene for every CSV the application writes, and the ``analyze`` CSV writers.

Two kinds of file, two rules (``../shared/docs/FORMATS.md``, "CSV hygiene"):

* **files meant for spreadsheets** (the detections CSV, the summary): a text cell that a
  spreadsheet would run as a formula is made inert with a leading ``'`` (:func:`inert_text`),
  which :func:`plain_text` removes again on import;
* **files programs read and match on** (``analyze --segments/--detections``, BriteKit, Raven,
  Audacity, Kaleidoscope id.csv): names verbatim, since ``'+1`` no longer matches ``+1.wav``.

In both, :class:`CsvWriter` quotes every cell holding a comma, a quote, CR or LF, so no text a
user can type splits a row. Files are written through :mod:`bsgbat_gui.core.files` (all or
nothing).
"""

from __future__ import annotations

import csv
import io
from typing import IO, TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from bsgbat_gui.core.detections import DetectionEvents
    from bsgbat_gui.core.segments import SegmentWindow

# `analyze --segments`: these columns, then one per model label in model order.
SEGMENTS_CSV_LEADING_COLUMNS = ("file", "segment", "start_s", "end_s", "flags")
# `analyze --detections`: one row per detection event.
DETECTIONS_CSV_COLUMNS = (
    "file",
    "species",
    "start_s",
    "end_s",
    "max_prob",
    "mean_prob",
    "n_segments",
    "threshold",
)

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula
INERT_PREFIX = "'"


def inert_text(value: str) -> str:
    """A text cell that a spreadsheet shows as text: formula-like cells get a leading ``'``.

    A cell that already starts with ``'`` gets one more, so that :func:`plain_text` gives back
    exactly what was written whatever the text (``'=x`` typed by a user stays ``'=x``).
    """
    return INERT_PREFIX + value if value.startswith((*FORMULA_TRIGGERS, INERT_PREFIX)) else value


def plain_text(cell: str) -> str:
    """The text :func:`inert_text` was given: its leading ``'`` removed."""
    return cell[1:] if cell.startswith(INERT_PREFIX) else cell


class CsvWriter:
    r"""``csv.writer`` with LF line ends that also quotes cells holding a lone CR.

    Python's writer quotes a cell only for the characters of its own line terminator, so with
    ``"\n"`` a bare ``"\r"`` goes out unquoted and splits the row for every reader. Each row is
    formatted with a CRLF terminator (which quotes both) and written with LF.
    """

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def writerow(self, row: Iterable[object]) -> None:
        """Write one row, CR and LF quoted, ended by LF."""
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(row)
        self._out.write(self._buffer.getvalue()[:-2] + "\n")

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        """Write each row with :meth:`writerow`."""
        for row in rows:
            self.writerow(row)


class SegmentsCsvWriter:
    """The ``--segments`` CSV: one row per model window, combined probabilities per label.

    Columns: ``file,segment,start_s,end_s,flags`` then one per label (header = the label text);
    times in real seconds with 3 decimals, probabilities with 6.
    """

    def __init__(self, out: IO[str], labels: Sequence[str]) -> None:
        self._writer = CsvWriter(out)
        self._writer.writerow([*SEGMENTS_CSV_LEADING_COLUMNS, *labels])

    def write_recording(
        self,
        file_label: str,
        windows: Sequence[SegmentWindow],
        probabilities: npt.NDArray[np.float32],
    ) -> None:
        """Write a recording's rows."""
        for window, row in zip(windows, probabilities, strict=True):
            self._writer.writerow(
                [
                    file_label,
                    window.index,
                    f"{window.start_s:.3f}",
                    f"{window.end_s:.3f}",
                    window.flag,
                    *(f"{p:.6f}" for p in row),
                ]
            )


class DetectionsCsvWriter:
    """The ``--detections`` CSV: one row per detection event (:mod:`bsgbat_gui.core.detections`).

    Columns :data:`DETECTIONS_CSV_COLUMNS`; times in real seconds with 3 decimals, probabilities
    and thresholds with 6; rows of a recording in time order, then by species.
    """

    def __init__(self, out: IO[str]) -> None:
        self._writer = CsvWriter(out)
        self._writer.writerow(DETECTIONS_CSV_COLUMNS)

    def write_recording(
        self,
        file_label: str,
        events: DetectionEvents,
        labels: Sequence[str],
        thresholds: npt.NDArray[np.float64],
    ) -> None:
        """Write a recording's rows."""
        order = np.lexsort((events.label_index, events.start_s))
        n_segments = events.n_segments
        for i in order:
            label_index = int(events.label_index[i])
            self._writer.writerow(
                [
                    file_label,
                    labels[label_index],
                    f"{events.start_s[i]:.3f}",
                    f"{events.end_s[i]:.3f}",
                    f"{events.max_prob[i]:.6f}",
                    f"{events.mean_prob[i]:.6f}",
                    int(n_segments[i]),
                    f"{thresholds[label_index]:.6f}",
                ]
            )
