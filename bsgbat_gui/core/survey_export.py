"""Writing a reviewed survey (:mod:`bsgbat_gui.core.survey`) in the formats bat workers use.

Formats (``../shared/docs/FORMATS.md`` has their sources):

* ``csv`` — one row per detection, :data:`EXPORT_CSV_COLUMNS`, times in real seconds;
* ``raven`` — a Raven Pro selection table per recording (``<stem>.Table.1.selections.txt``);
* ``audacity`` — an Audacity label track per recording (``<stem>.txt``);
* ``kaleidoscope`` — a Kaleidoscope-style ``id.csv``, one row per recording;
* ``britekit`` — BriteKit per-segment annotations of the verified detections;
* ``summary`` — per species and per night counts.

Raven, Audacity and BriteKit open the audio file itself, at the rate its header states; for a
time-expanded recording their times are *file* seconds (real × TE) and frequencies file Hz (real
÷ TE), so the selections line up with what those tools show. For every other recording file and
real units are the same.

Every file is written through :class:`~bsgbat_gui.core.export.AtomicTextFile` (the old file or
the complete new one, never half of one), UTF-8 with ``.`` decimals, and every text cell is
passed through :func:`~bsgbat_gui.core.export.inert_text` (file names and notes are the user's).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bsgbat_gui.core.export import AtomicTextFile, inert_text
from bsgbat_gui.core.model_card import FMAX_HZ, FMIN_HZ
from bsgbat_gui.core.review_store import STATUS_CONFIRMED, STATUS_RELABELLED
from bsgbat_gui.core.species import SPECIES, species_for_label
from bsgbat_gui.core.survey import (
    DetectionRow,
    RecordingRows,
    SurveySummary,
    rows_by_path,
    select_recordings,
    select_rows,
    summarise,
)

EXPORT_FORMATS = ("csv", "raven", "audacity", "kaleidoscope", "britekit", "summary")
FOLDER_FORMATS = ("raven", "audacity")  # one file per recording, in an output folder
FORMAT_DESCRIPTIONS = {
    "csv": "CSV, one row per detection",
    "raven": "Raven Pro selection tables (one per recording)",
    "audacity": "Audacity labels (one per recording)",
    "kaleidoscope": "Kaleidoscope-style id.csv (one row per recording)",
    "britekit": "BriteKit per-segment annotations (verified detections)",
    "summary": "Summary per species and per night",
}

EXPORT_CSV_COLUMNS = (
    "file", "path", "recording_start", "latitude", "longitude", "start_s", "end_s",
    "species_auto", "max_prob", "mean_prob", "n_segments", "threshold", "combine", "status",
    "species_final", "reviewer", "reviewed_at", "note", "model_set", "app_version",
)  # fmt: skip
RAVEN_COLUMNS = (
    "Selection", "View", "Channel", "Begin Time (s)", "End Time (s)", "Low Freq (Hz)",
    "High Freq (Hz)", "Species", "Max Prob", "Status",
)  # fmt: skip
RAVEN_VIEW = "Spectrogram 1"
KALEIDOSCOPE_COLUMNS = (
    "INDIR", "OUTDIR", "FOLDER", "IN FILE", "CHANNEL", "OFFSET", "DURATION", "OUT FILE FS",
    "OUT FILE ZC", "DATE", "TIME", "HOUR", "DATE-12", "TIME-12", "HOUR-12", "AUTO ID*", "PULSES",
    "MATCHING", "MATCH RATIO", "MARGIN", "ALTERNATE 1", "ALTERNATE 2", "MANUAL ID",
)  # fmt: skip
KALEIDOSCOPE_NO_ID = "NoID"  # Kaleidoscope's word for "no automatic identification"
KALEIDOSCOPE_NOISE = "NOISE"  # the usual manual ID of a file with no bat
BRITEKIT_COLUMNS = ("recording", "class", "start_time", "end_time")
SUMMARY_COLUMNS = (
    "night", "species", "detections", "confirmed", "rejected", "recordings_confirmed",
)  # fmt: skip
SUMMARY_ALL_NIGHTS = "all"
_SPECIES_NAMES = frozenset(s.scientific_name for s in SPECIES)


class ExportError(Exception):
    """An export that cannot be written (target exists, folder not writable…)."""


@dataclass(frozen=True)
class ExportResult:
    files: tuple[Path, ...]
    rows: int


def export_survey(
    fmt: str,
    out: Path,
    recordings: Sequence[RecordingRows],
    *,
    scope: str = "verified",
    which: str = "all",
    overwrite: bool = False,
) -> ExportResult:
    """Write ``recordings`` in ``fmt`` to ``out`` (a file, or a folder for
    :data:`FOLDER_FORMATS`). Refuses to replace existing files unless ``overwrite``.

    Raises :class:`ExportError` (nothing written) or ``OSError`` (a write failed: files already
    renamed into place are complete, the one being written is not left behind).
    """
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown format {fmt!r}; one of {', '.join(EXPORT_FORMATS)}")
    rows = select_rows(recordings, scope, which)
    chosen = select_recordings(recordings, which)
    plan = planned_files(fmt, out, chosen, rows)
    existing = [p for p in plan if p.exists()]
    if existing and not overwrite:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise ExportError(f"{existing[0]}{more} already exist(s); choose another name or overwrite")
    folder = out if fmt in FOLDER_FORMATS else out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{folder}: cannot create ({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK):
        raise ExportError(f"{folder}: folder is read-only")
    if fmt == "csv":
        write_detections_csv(out, rows)
    elif fmt == "britekit":
        write_britekit(out, rows)
    elif fmt == "kaleidoscope":
        write_kaleidoscope(out, kaleidoscope_table(chosen, rows, out))
    elif fmt == "summary":
        table = summary_table(summarise(recordings, which))
        write_summary_table(out, table)
        return ExportResult(tuple(plan), len(table))
    else:
        by_path = rows_by_path(rows)
        write_one = write_raven_table if fmt == "raven" else write_audacity_labels
        for target, path in zip(plan, by_path, strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            write_one(target, by_path[path])
    n_rows = len(chosen) if fmt == "kaleidoscope" else len(rows)
    return ExportResult(tuple(plan), n_rows)


def planned_files(
    fmt: str, out: Path, recordings: Sequence[RecordingRows], rows: Sequence[DetectionRow]
) -> list[Path]:
    """The files an export will write, in order (folder formats: one per recording with rows,
    in the folder structure of the recordings below their common folder)."""
    if fmt not in FOLDER_FORMATS:
        return [out]
    paths = list(dict.fromkeys(row.path for row in rows))
    root = common_folder([r.recording.path for r in recordings] or paths)
    suffix = ".Table.1.selections.txt" if fmt == "raven" else ".txt"
    return [out / _relative_folder(p, root) / (p.stem + suffix) for p in paths]


def common_folder(paths: Sequence[Path]) -> Path:
    if not paths:
        return Path()
    return Path(os.path.commonpath([str(p.parent) for p in paths]))


def _relative_folder(path: Path, root: Path) -> Path:
    try:
        return path.parent.relative_to(root)
    except ValueError:
        return Path()


# -- cells ---------------------------------------------------------------------------------------


def _num(value: float | None, decimals: int) -> str:
    if value is None or value != value:  # None or NaN: unknown
        return ""
    return f"{value:.{decimals}f}"


def _iso(moment: dt.datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def detection_cells(row: DetectionRow) -> list[str]:
    """A row's cells in :data:`EXPORT_CSV_COLUMNS` order (text cells made inert)."""
    return [
        inert_text(row.path.name),
        inert_text(str(row.path)),
        _iso(row.recording_start),
        _num(row.latitude, 6),
        _num(row.longitude, 6),
        f"{row.start_s:.3f}",
        f"{row.end_s:.3f}",
        inert_text(row.species_auto),
        _num(row.max_prob, 6),
        _num(row.mean_prob, 6),
        str(row.n_segments),
        _num(row.threshold, 6),
        row.combine,
        row.status,
        inert_text(row.species_final),
        inert_text(row.reviewer),
        row.reviewed_at,
        inert_text(row.note),
        row.model_set,
        row.app_version,
    ]


def write_detections_csv(path: Path, rows: Sequence[DetectionRow]) -> None:
    with AtomicTextFile(path) as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(EXPORT_CSV_COLUMNS)
        writer.writerows(detection_cells(row) for row in rows)


def _file_seconds(row: DetectionRow, seconds: float) -> float:
    return seconds * row.time_expansion


def _shown_species(row: DetectionRow) -> str:
    return row.species_final or row.species_auto


def raven_cells(selection: int, row: DetectionRow) -> list[str]:
    return [
        str(selection),
        RAVEN_VIEW,
        "1",
        f"{_file_seconds(row, row.start_s):.6f}",
        f"{_file_seconds(row, row.end_s):.6f}",
        f"{FMIN_HZ / row.time_expansion:.1f}",
        f"{FMAX_HZ / row.time_expansion:.1f}",
        _tsv_text(_shown_species(row)),
        _num(row.max_prob, 6),
        row.status,
    ]


def write_raven_table(path: Path, rows: Sequence[DetectionRow]) -> None:
    """Raven Pro selection table of one recording: tab-separated, one header row."""
    with AtomicTextFile(path) as f:
        f.write("\t".join(RAVEN_COLUMNS) + "\n")
        for n, row in enumerate(rows, start=1):
            f.write("\t".join(raven_cells(n, row)) + "\n")


def audacity_cells(row: DetectionRow) -> list[str]:
    return [
        f"{_file_seconds(row, row.start_s):.6f}",
        f"{_file_seconds(row, row.end_s):.6f}",
        _tsv_text(f"{_shown_species(row)} ({row.status})"),
    ]


def write_audacity_labels(path: Path, rows: Sequence[DetectionRow]) -> None:
    """Audacity label track of one recording: ``start<TAB>end<TAB>species (status)``."""
    with AtomicTextFile(path) as f:
        for row in rows:
            f.write("\t".join(audacity_cells(row)) + "\n")


def _tsv_text(text: str) -> str:
    """A text cell of a tab-separated file: no tabs or line breaks inside, and inert."""
    flat = " ".join(text.replace("\t", " ").splitlines())
    return inert_text(flat)


def _verified(rows: Sequence[DetectionRow]) -> list[DetectionRow]:
    return [r for r in rows if r.status in (STATUS_CONFIRMED, STATUS_RELABELLED)]


def britekit_cells(row: DetectionRow) -> list[str]:
    return [
        inert_text(row.path.stem),
        inert_text(row.species_final),
        f"{_file_seconds(row, row.start_s):.3f}",
        f"{_file_seconds(row, row.end_s):.3f}",
    ]


def write_britekit(path: Path, rows: Sequence[DetectionRow]) -> None:
    """BriteKit per-segment annotations: the verified detections (confirmed or relabelled) as
    ``recording,class,start_time,end_time`` (recording = file stem, class = final species)."""
    with AtomicTextFile(path) as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(BRITEKIT_COLUMNS)
        writer.writerows(britekit_cells(row) for row in _verified(rows))


def kaleidoscope_code(label: str) -> str:
    """Kaleidoscope writes species as upper-case codes (``PIPPIP``); other labels as they are."""
    return species_for_label(label).code.upper() if label in _SPECIES_NAMES else label


def kaleidoscope_cells(recording: RecordingRows, rows: Sequence[DetectionRow], out: Path,
                       root: Path) -> dict[str, str]:  # fmt: skip
    info = recording.recording.analysis.info
    cells = dict.fromkeys(KALEIDOSCOPE_COLUMNS, "")
    cells["INDIR"] = inert_text(str(root))
    cells["OUTDIR"] = inert_text(str(out.parent))
    folder = _relative_folder(info.path, root)
    cells["FOLDER"] = "" if folder == Path() else inert_text(str(folder))
    cells["IN FILE"] = inert_text(info.path.name)
    cells["DURATION"] = f"{info.duration_s:.3f}"
    start = info.metadata.timestamp
    if start is not None:
        shifted = start - dt.timedelta(hours=12)
        cells.update(
            {
                "DATE": start.date().isoformat(),
                "TIME": start.strftime("%H:%M:%S"),
                "HOUR": str(start.hour),
                "DATE-12": shifted.date().isoformat(),
                "TIME-12": shifted.strftime("%H:%M:%S"),
                "HOUR-12": str(shifted.hour),
            }
        )
    segments = recording.detected_segments
    if segments:
        labels = recording.recording.analysis.labels
        order = {label: i for i, label in enumerate(labels)}
        # Most detected segments; a tie goes to the label the model lists first.
        top = max(segments, key=lambda s: (segments[s], -order.get(s, len(order))))
        cells["AUTO ID*"] = kaleidoscope_code(top)
        cells["MATCH RATIO"] = f"{segments[top] / sum(segments.values()):.3f}"
    else:
        cells["AUTO ID*"] = KALEIDOSCOPE_NO_ID
    confirmed = [r.species_final for r in rows if r.status in (STATUS_CONFIRMED, STATUS_RELABELLED)]
    manual = list(dict.fromkeys([*confirmed, *recording.recording.review.manual_species]))
    if manual:
        cells["MANUAL ID"] = inert_text(";".join(kaleidoscope_code(s) for s in manual))
    elif recording.recording.review.no_bats:
        cells["MANUAL ID"] = KALEIDOSCOPE_NOISE
    return cells


def kaleidoscope_table(
    recordings: Sequence[RecordingRows], rows: Sequence[DetectionRow], out: Path
) -> list[dict[str, str]]:
    """One ``id.csv`` row per recording (``rows``: the exported detections, for MANUAL ID)."""
    root = common_folder([r.recording.path for r in recordings])
    by_path = rows_by_path(rows)
    return [
        kaleidoscope_cells(rec, by_path.get(rec.recording.path, []), out, root)
        for rec in recordings
    ]


def write_kaleidoscope(path: Path, table: Sequence[dict[str, str]]) -> None:
    with AtomicTextFile(path) as f:
        writer = csv.DictWriter(f, KALEIDOSCOPE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)


def summary_table(summary: SurveySummary) -> list[list[str]]:
    """The summary as rows of :data:`SUMMARY_COLUMNS`: the survey ("all"), then each night."""
    table = []
    for night, counts in ((SUMMARY_ALL_NIGHTS, summary.species), *summary.nights):
        for c in counts:
            table.append(
                [night, inert_text(c.species), str(c.detections), str(c.confirmed),
                 str(c.rejected), str(c.recordings_confirmed)]
            )  # fmt: skip
    return table


def write_summary_table(path: Path, table: Sequence[Sequence[str]]) -> None:
    """The summary CSV: :data:`SUMMARY_COLUMNS`, rows from :func:`summary_table`."""
    with AtomicTextFile(path) as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(SUMMARY_COLUMNS)
        writer.writerows(table)


@dataclass(frozen=True)
class ExportPreview:
    """The first rows of an export as they will be written, and how many there will be."""

    columns: tuple[str, ...]
    rows: list[list[str]]
    count: int
    unit: str  # what a row is: "detections", "recordings", "summary lines"


def preview_export(
    fmt: str,
    recordings: Sequence[RecordingRows],
    *,
    scope: str = "verified",
    which: str = "all",
    limit: int = 100,
) -> ExportPreview:
    rows = select_rows(recordings, scope, which)
    if fmt == "kaleidoscope":
        per_recording = kaleidoscope_table(
            select_recordings(recordings, which), rows, Path("id.csv")
        )
        cells = [list(row.values()) for row in per_recording[:limit]]
        return ExportPreview(KALEIDOSCOPE_COLUMNS, cells, len(per_recording), "recordings")
    if fmt == "summary":
        table = summary_table(summarise(recordings, which))
        return ExportPreview(SUMMARY_COLUMNS, table[:limit], len(table), "summary lines")
    if fmt == "britekit":
        verified = _verified(rows)
        return ExportPreview(
            BRITEKIT_COLUMNS, [britekit_cells(r) for r in verified[:limit]], len(verified),
            "detections",
        )  # fmt: skip
    if fmt == "raven":
        numbered: list[list[str]] = []
        counter: dict[Path, int] = {}
        for row in rows[:limit]:
            counter[row.path] = counter.get(row.path, 0) + 1
            numbered.append([row.path.name, *raven_cells(counter[row.path], row)])
        return ExportPreview(("file", *RAVEN_COLUMNS), numbered, len(rows), "detections")
    if fmt == "audacity":
        cells = [[row.path.name, *audacity_cells(row)] for row in rows[:limit]]
        return ExportPreview(("file", "start", "end", "label"), cells, len(rows), "detections")
    return ExportPreview(
        EXPORT_CSV_COLUMNS, [detection_cells(r) for r in rows[:limit]], len(rows), "detections"
    )
