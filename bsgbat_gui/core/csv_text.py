"""CSV hygiene for every CSV the application writes.

Two kinds of file, two rules (``../shared/docs/FORMATS.md``, "CSV hygiene"):

* **files meant for spreadsheets** (the detections CSV, the summary): a text cell that a
  spreadsheet would run as a formula is made inert with a leading ``'`` (:func:`inert_text`),
  which :func:`plain_text` removes again on import;
* **files programs read and match on** (``analyze --segments/--detections``, BriteKit, Raven,
  Audacity, Kaleidoscope id.csv): names verbatim, since ``'+1`` no longer matches ``+1.wav``.

In both, :class:`CsvWriter` quotes every cell holding a comma, a quote, CR or LF, so no text a
user can type splits a row. Shared by the export (writing) and the review's decision import
(reading back).
"""

from __future__ import annotations

import csv
import io
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

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
