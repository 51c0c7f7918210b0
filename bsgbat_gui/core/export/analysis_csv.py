"""The ``analyze`` CSV writers: ``--segments`` (one row per model window) and ``--detections``
(one row per detection event), for programs to read: names verbatim, cells quoted by
:class:`~bsgbat_gui.core.csv_text.CsvWriter`. Files are written through
:mod:`bsgbat_gui.core.files` (all or nothing).
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.csv_text import CsvWriter

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bsgbat_gui.core.analysis.detections import DetectionEvents
    from bsgbat_gui.core.audio.segments import SegmentWindow

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
    """The ``--detections`` CSV: one row per detection event
    (:mod:`bsgbat_gui.core.analysis.detections`).

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
