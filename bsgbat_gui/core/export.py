"""Every file the application writes: one writer per format, columns as constants.

All writers go through :class:`AtomicTextFile`: a temporary file in the target folder, renamed
over the target only when complete, so a crash or a kill never leaves half a file under the final
name. Text cells that a spreadsheet would run as a formula are made inert.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, AnyStr, Generic

import numpy as np
import numpy.typing as npt

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


def inert_text(value: str) -> str:
    """A text cell that a spreadsheet shows as text: formula-like cells get a leading ``'``."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


# A temporary left this long ago is not being written any more: its writer was killed.
STALE_TEMPORARY_S = 3600.0


def temporary_beside(path: Path) -> tuple[int, Path]:
    """A new temporary file in ``path``'s folder (open fd, path), named after ``path``, for
    writing ``path`` all-or-nothing by renaming it over ``path``.

    Temporaries of ``path`` that a killed writer left behind (older than
    :data:`STALE_TEMPORARY_S`) are removed first, so a crash does not leave litter — for a WAV
    rewritten with GUANO, a full copy of the recording — beside the user's files for ever.
    """
    folder = path.parent if str(path.parent) else Path()
    prefix = f".{path.name}."
    cutoff = time.time() - STALE_TEMPORARY_S
    # Cleaning is a courtesy: the write goes on whatever it meets.
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                        Path(entry.path).unlink()
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
    return fd, Path(tmp)


class _AtomicFile(Generic[AnyStr]):
    """Write a file all-or-nothing: ``with AtomicTextFile(path) as f: ...``.

    On success the temporary file (in the target's folder) is flushed, fsynced and renamed over
    ``path``; on an exception it is deleted and ``path`` is untouched.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp_path: Path | None = None
        self._file: IO[AnyStr] | None = None

    def _open(self, fd: int) -> IO[AnyStr]:
        raise NotImplementedError

    def __enter__(self) -> IO[AnyStr]:
        fd, self._tmp_path = temporary_beside(self.path)
        self._file = self._open(fd)
        return self._file

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._file is not None and self._tmp_path is not None
        try:
            if exc_type is None:
                self._file.flush()
                os.fsync(self._file.fileno())
            self._file.close()
            if exc_type is None:
                self._tmp_path.replace(self.path)
        finally:
            if self._tmp_path.exists():
                self._tmp_path.unlink()


class AtomicTextFile(_AtomicFile[str]):
    """A text file written all-or-nothing (UTF-8; newlines as written)."""

    def __init__(self, path: Path, *, encoding: str = "utf-8", newline: str = "") -> None:
        super().__init__(path)
        self._encoding = encoding
        self._newline = newline

    def _open(self, fd: int) -> IO[str]:
        return os.fdopen(fd, "w", encoding=self._encoding, newline=self._newline)


class AtomicBinaryFile(_AtomicFile[bytes]):
    """A binary file (an audio clip) written all-or-nothing."""

    def _open(self, fd: int) -> IO[bytes]:
        return os.fdopen(fd, "wb")


class SegmentsCsvWriter:
    """The ``--segments`` CSV: one row per model window, combined probabilities per label.

    Columns: ``file,segment,start_s,end_s,flags`` then one per label (header = the label text);
    times in real seconds with 3 decimals, probabilities with 6.
    """

    def __init__(self, out: IO[str], labels: Sequence[str]) -> None:
        self._writer = csv.writer(out, lineterminator="\n")
        self._writer.writerow([*SEGMENTS_CSV_LEADING_COLUMNS, *(inert_text(x) for x in labels)])

    def write_recording(
        self,
        file_label: str,
        windows: Sequence[SegmentWindow],
        probabilities: npt.NDArray[np.float32],
    ) -> None:
        file_cell = inert_text(file_label)
        for window, row in zip(windows, probabilities, strict=True):
            self._writer.writerow(
                [
                    file_cell,
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
        self._writer = csv.writer(out, lineterminator="\n")
        self._writer.writerow(DETECTIONS_CSV_COLUMNS)

    def write_recording(
        self,
        file_label: str,
        events: DetectionEvents,
        labels: Sequence[str],
        thresholds: npt.NDArray[np.float64],
    ) -> None:
        file_cell = inert_text(file_label)
        order = np.lexsort((events.label_index, events.start_s))
        n_segments = events.n_segments
        for i in order:
            label_index = int(events.label_index[i])
            self._writer.writerow(
                [
                    file_cell,
                    inert_text(labels[label_index]),
                    f"{events.start_s[i]:.3f}",
                    f"{events.end_s[i]:.3f}",
                    f"{events.max_prob[i]:.6f}",
                    f"{events.mean_prob[i]:.6f}",
                    int(n_segments[i]),
                    f"{thresholds[label_index]:.6f}",
                ]
            )
