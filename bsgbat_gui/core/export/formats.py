"""Writing a reviewed survey (:mod:`bsgbat_gui.core.review.survey`) in the formats bat workers use.

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

Every file is written through :class:`~bsgbat_gui.core.files.AtomicTextFile` (the old file or
the complete new one, never half of one), UTF-8 with ``.`` decimals, every CSV cell with a comma,
quote, CR or LF quoted (:class:`~bsgbat_gui.core.csv_text.CsvWriter`). Only the files meant for
spreadsheets — the CSV and the summary — make formula-like text inert
(:func:`~bsgbat_gui.core.csv_text.inert_text`); the files programs read and match on — Raven,
Audacity, Kaleidoscope, BriteKit — carry names verbatim (:data:`SPREADSHEET_FORMATS`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bsgbat_gui.core.checklist import european_checklist
from bsgbat_gui.core.csv_text import CsvWriter, inert_text
from bsgbat_gui.core.files import AtomicTextFile, canonical_path
from bsgbat_gui.core.model_card import FMAX_HZ, FMIN_HZ
from bsgbat_gui.core.review.decisions import STATUS_CONFIRMED, STATUS_RELABELLED
from bsgbat_gui.core.review.survey import (
    SCOPES,
    DetectionRow,
    RecordingRows,
    SurveySummary,
    recording_start,
    rows_by_path,
    select_recordings,
    select_rows,
    shifted,
    summarise,
)

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Iterator, Sequence

    from bsgbat_gui.core.calls.summary import CallSummary

EXPORT_FORMATS = ("csv", "raven", "audacity", "kaleidoscope", "britekit", "summary")
FOLDER_FORMATS = ("raven", "audacity")  # one file per recording, in an output folder
# Written row by row into one file: exported from a store one recording at a time
# (export_streamed), so that a season's export does not hold the season.
STREAMED_FORMATS = ("csv", "britekit")
# Files meant for spreadsheets: formula-like text is made inert. Every other format is read by
# programs that match names, and carries them verbatim.
SPREADSHEET_FORMATS = ("csv", "summary")
# The detection scopes each format can write (the first is its default). BriteKit annotations
# are ground truth for BriteKit's tests: verified detections only. Kaleidoscope (one row per
# recording) and the summary (counts of every status) do not select detections.
FORMAT_SCOPES: dict[str, tuple[str, ...]] = {
    "csv": SCOPES, "raven": SCOPES, "audacity": SCOPES, "britekit": ("verified",),
    "kaleidoscope": (), "summary": (),
}  # fmt: skip
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
    "n_calls", "median_fme_khz", "median_call_ms", "median_call_interval_ms",
)  # fmt: skip
# "Annotation" repeats "Species": Raven-reading importers (crowsetta, opensoundscape) look for
# the label there.
RAVEN_COLUMNS = (
    "Selection", "View", "Channel", "Begin Time (s)", "End Time (s)", "Low Freq (Hz)",
    "High Freq (Hz)", "Species", "Annotation", "Max Prob", "Status", "Calls",
    "Median FME (kHz, real)", "Median Call (ms, real)",
)  # fmt: skip
RAVEN_VIEW = "Spectrogram 1"
# Kaleidoscope Pro's id.csv, its 44 columns in its order (as in real files: README, "Kaleidoscope
# id.csv"). Columns we cannot know (call parameters, output files, user ids, MD5s) stay empty.
KALEIDOSCOPE_COLUMNS = (
    "INDIR", "OUTDIR", "FOLDER", "IN FILE", "CHANNEL", "OFFSET", "DURATION", "OUT FILE FS",
    "OUT FILE ZC", "DATE", "TIME", "HOUR", "DATE-12", "TIME-12", "HOUR-12", "AUTO ID*", "PULSES",
    "MATCHING", "MATCH RATIO", "MARGIN", "ALTERNATE 1", "ALTERNATE 2", "N", "Fc", "Sc", "Dur",
    "Fmax", "Fmin", "Fmean", "TBC", "Fk", "Tk", "S1", "Tc", "Qual", "FILES", "MANUAL ID", "ORGID",
    "USERID", "REVIEW ORGID", "REVIEW USERID", "INPATHMD5", "OUTPATHMD5FS", "OUTPATHMD5ZC",
)  # fmt: skip
KALEIDOSCOPE_NOISE = "Noise"  # Kaleidoscope's word for "no bat" (readers count every other row)
BRITEKIT_COLUMNS = ("recording", "class", "start_time", "end_time")
SUMMARY_COLUMNS = (
    "night", "species", "detections", "confirmed", "rejected", "recordings_confirmed",
)  # fmt: skip
SUMMARY_ALL_NIGHTS = "all"


class ExportError(Exception):
    """An export that cannot be written (target exists, folder not writable…)."""


class ExportTargetExists(ExportError):
    """The files an export would write exist already (the caller may ask to overwrite)."""


@dataclass(frozen=True)
class ExportResult:
    """The files an export wrote and how many rows (detections, recordings, lines)."""

    files: tuple[Path, ...]
    rows: int


def export_scope(fmt: str, scope: str | None) -> str:
    """The detection scope an export of ``fmt`` uses: ``scope``, or the format's default when
    None. Raises :class:`ExportError` for a scope the format cannot write (BriteKit is verified
    only), so nothing is written under a count that is not what was asked.
    """
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown format {fmt!r}; one of {', '.join(EXPORT_FORMATS)}")
    allowed = FORMAT_SCOPES[fmt]
    if scope is None:
        return allowed[0] if allowed else "all"
    if scope not in SCOPES:
        raise ExportError(f"unknown scope {scope!r}; one of {', '.join(SCOPES)}")
    if not allowed:
        raise ExportError(
            f"{fmt} does not select detections (it has "
            + ("one row per recording" if fmt == "kaleidoscope" else "counts of every status")
            + "): leave out --scope"
        )
    if scope not in allowed:
        raise ExportError(
            f"{fmt} writes {' or '.join(allowed)} detections only (annotations are ground "
            f"truth for BriteKit's tests), not {scope!r}"
        )
    return scope


def export_survey(
    fmt: str,
    out: Path,
    recordings: Sequence[RecordingRows],
    *,
    scope: str | None = None,
    which: str = "all",
    overwrite: bool = False,
) -> ExportResult:
    """Write ``recordings`` in ``fmt`` to ``out`` (a file, or a folder for
    :data:`FOLDER_FORMATS`). ``scope``: see :func:`export_scope`. Refuses to replace existing
    files unless ``overwrite``, and to create missing parent folders.

    Raises :class:`ExportError` (nothing written) or ``OSError`` (a write failed: files already
    renamed into place are complete, the one being written is not left behind). The result's
    ``rows`` is what was written: detections, recordings (Kaleidoscope) or summary lines.
    """
    scope = export_scope(fmt, scope)
    rows = select_rows(recordings, scope, which)
    chosen = select_recordings(recordings, which)
    plan = planned_files(fmt, out, chosen, rows)
    _prepare_target(fmt, out, plan, overwrite)
    if fmt == "csv":
        write_detections_csv(out, rows)
        return ExportResult(tuple(plan), len(rows))
    if fmt == "britekit":
        written = _verified(rows)
        write_britekit(out, written)
        return ExportResult(tuple(plan), len(written))
    if fmt == "kaleidoscope":
        write_kaleidoscope(out, kaleidoscope_table(chosen, rows, out))
        return ExportResult(tuple(plan), len(chosen))
    if fmt == "summary":
        table = summary_table(summarise(recordings, which))
        write_summary_table(out, table)
        return ExportResult(tuple(plan), len(table))
    by_path = rows_by_path(rows)
    write_one = write_raven_table if fmt == "raven" else write_audacity_labels
    for target, path in zip(plan, by_path, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        write_one(target, by_path[path])
    return ExportResult(tuple(plan), len(rows))


def export_streamed(
    fmt: str,
    out: Path,
    recordings: Iterable[RecordingRows],
    *,
    scope: str | None = None,
    which: str = "all",
    overwrite: bool = False,
) -> ExportResult:
    """:func:`export_survey` for the formats written row by row into one file
    (:data:`STREAMED_FORMATS`), taking ``recordings`` one at a time as they come (from
    :meth:`~bsgbat_gui.core.review.survey.SurveyStream.recording_rows`): memory does not grow
    with the survey. The same checks, the same file, the same errors.
    """
    if fmt not in STREAMED_FORMATS:
        raise ValueError(f"{fmt} is not written row by row; one of {', '.join(STREAMED_FORMATS)}")
    scope = export_scope(fmt, scope)
    plan = [out]
    _prepare_target(fmt, out, plan, overwrite)
    written = 0

    def rows() -> Iterator[DetectionRow]:
        nonlocal written
        for recording in recordings:
            for row in select_rows([recording], scope, which):
                if fmt == "britekit" and row.status not in _VERIFIED:
                    continue
                written += 1
                yield row

    (write_detections_csv if fmt == "csv" else write_britekit)(out, rows())
    return ExportResult(tuple(plan), written)


def _prepare_target(fmt: str, out: Path, plan: Sequence[Path], overwrite: bool) -> None:
    """Refuse what an export must not do (replace files unasked, write into a file, a missing
    or read-only folder) and create the output folder; :class:`ExportError` otherwise.
    """
    existing = [p for p in plan if p.exists()]
    if existing and not overwrite:
        raise ExportTargetExists(
            f"{existing[0]} already exists"
            if len(existing) == 1
            else f"{existing[0]} and {len(existing) - 1} more files already exist"
        )
    if fmt in FOLDER_FORMATS:
        if out.exists() and not out.is_dir():
            raise ExportError(f"{out}: is a file; {fmt} writes a folder of tables")
        parent = out.parent if str(out.parent) else Path()
        folder = out
    else:
        parent = folder = out.parent if str(out.parent) else Path()
        if out.is_dir():
            raise ExportError(f"{out}: is a folder; give a file name")
    if not parent.is_dir():
        raise ExportError(f"{parent}: no such folder (create it first)")
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{folder}: cannot create ({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK):
        raise ExportError(f"{folder}: folder is read-only")


def planned_files(
    fmt: str, out: Path, recordings: Sequence[RecordingRows], rows: Sequence[DetectionRow]
) -> list[Path]:
    """The files an export will write, in order (folder formats: one per recording with rows,
    in the folder structure of the recordings below their common folder).
    """
    if fmt not in FOLDER_FORMATS:
        return [out]
    paths = list(dict.fromkeys(row.path for row in rows))
    root = common_folder([r.recording.path for r in recordings] or paths)
    suffix = ".Table.1.selections.txt" if fmt == "raven" else ".txt"
    return [out / _relative_folder(p, root) / (p.stem + suffix) for p in paths]


def common_folder(paths: Sequence[Path]) -> Path:
    """The deepest folder holding every one of ``paths``."""
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
        *call_summary_cells(row.calls, with_interval=True),
    ]


def call_summary_cells(summary: CallSummary | None, *, with_interval: bool) -> list[str]:
    """A detection's call summary: number of calls, median FME (kHz), median duration (ms) and,
    ``with_interval``, median interval (ms) — real units; empty cells when the recording's calls
    were not measured, or a median has no call to take it from.
    """
    if summary is None:
        return ["", "", "", ""] if with_interval else ["", "", ""]
    cells = [
        str(summary.n_calls),
        _num(summary.median_fme_khz, 2),
        _num(summary.median_duration_ms, 2),
    ]
    if with_interval:
        cells.append(_num(summary.median_interval_ms, 1))
    return cells


def write_detections_csv(path: Path, rows: Iterable[DetectionRow]) -> None:
    """The detections CSV (:data:`EXPORT_CSV_COLUMNS`), spreadsheet-safe."""
    with AtomicTextFile(path) as f:
        writer = CsvWriter(f)
        writer.writerow(EXPORT_CSV_COLUMNS)
        writer.writerows(detection_cells(row) for row in rows)


def _file_seconds(row: DetectionRow, seconds: float) -> float:
    return seconds * row.time_expansion


def _shown_species(row: DetectionRow) -> str:
    return row.species_final or row.species_auto


def raven_cells(selection: int, row: DetectionRow) -> list[str]:
    """A row's Raven selection-table cells (file time and Hz for time-expanded files)."""
    return [
        str(selection),
        RAVEN_VIEW,
        "1",
        f"{_file_seconds(row, row.start_s):.6f}",
        f"{_file_seconds(row, row.end_s):.6f}",
        f"{FMIN_HZ / row.time_expansion:.1f}",
        f"{FMAX_HZ / row.time_expansion:.1f}",
        _tsv_text(_shown_species(row)),
        _tsv_text(_shown_species(row)),
        _num(row.max_prob, 6),
        row.status,
        *call_summary_cells(row.calls, with_interval=False),
    ]


def write_raven_table(path: Path, rows: Sequence[DetectionRow]) -> None:
    """Raven Pro selection table of one recording: tab-separated, one header row."""
    with AtomicTextFile(path) as f:
        f.write("\t".join(RAVEN_COLUMNS) + "\n")
        for n, row in enumerate(rows, start=1):
            f.write("\t".join(raven_cells(n, row)) + "\n")


def audacity_cells(row: DetectionRow) -> list[str]:
    """A row's Audacity label: start, end (file seconds) and ``species (status)``."""
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
    """A text cell of a tab-separated file: no tabs or line breaks inside (each would split the
    row); otherwise verbatim — Raven and Audacity files are read by programs, not spreadsheets.
    """
    return " ".join(text.replace("\t", " ").splitlines())


_VERIFIED = (STATUS_CONFIRMED, STATUS_RELABELLED)


def _verified(rows: Iterable[DetectionRow]) -> list[DetectionRow]:
    return [r for r in rows if r.status in _VERIFIED]


def britekit_cells(row: DetectionRow) -> list[str]:
    """A row's BriteKit annotation: recording stem, class, file-time span."""
    return [
        row.path.stem,
        row.species_final,
        f"{_file_seconds(row, row.start_s):.3f}",
        f"{_file_seconds(row, row.end_s):.3f}",
    ]


def write_britekit(path: Path, rows: Iterable[DetectionRow]) -> None:
    """BriteKit per-segment annotations: the verified detections (confirmed or relabelled) as
    ``recording,class,start_time,end_time`` (recording = file stem, class = final species).
    """
    with AtomicTextFile(path) as f:
        writer = CsvWriter(f)
        writer.writerow(BRITEKIT_COLUMNS)
        writer.writerows(britekit_cells(row) for row in rows if row.status in _VERIFIED)


def kaleidoscope_code(label: str) -> str:
    """Kaleidoscope writes species as upper-case codes (``PIPPIP``), ``NoID`` for an unidentified
    bat and ``Noise`` for no bat; free text as it is.
    """
    return european_checklist().code_for(label)


def _date_cells(suffix: str, moment: dt.datetime | None) -> dict[str, str]:
    if moment is None:
        return {}
    return {
        f"DATE{suffix}": moment.date().isoformat(),
        f"TIME{suffix}": f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}",
        f"HOUR{suffix}": str(moment.hour),
    }


def kaleidoscope_cells(recording: RecordingRows, rows: Sequence[DetectionRow], out: Path,
                       root: Path) -> dict[str, str]:  # fmt: skip
    """One id.csv row (values verbatim: programs match ``IN FILE`` against file names)."""
    info = recording.recording.analysis.info
    cells = dict.fromkeys(KALEIDOSCOPE_COLUMNS, "")
    cells["INDIR"] = str(root)
    cells["OUTDIR"] = str(canonical_path(out.parent))
    folder = _relative_folder(info.path, root)
    cells["FOLDER"] = "" if folder == Path() else str(folder)
    cells["IN FILE"] = info.path.name
    cells["CHANNEL"] = "0"  # mixed to mono: the row is about the file, from its first channel
    cells["OFFSET"] = "0"  # the row covers the whole file, from its start
    cells["DURATION"] = f"{info.duration_s:.6f}"
    start = recording_start(info)
    cells.update(_date_cells("", start))
    cells.update(_date_cells("-12", shifted(start, -12) if start is not None else None))
    cells["FILES"] = "1"
    segments = recording.detected_segments
    labels = recording.recording.analysis.labels
    order = {label: i for i, label in enumerate(labels)}
    # Most detected segments first; a tie goes to the label the model lists first.
    ranked = sorted(segments, key=lambda s: (-segments[s], order.get(s, len(order))))
    if ranked:
        pulses = sum(segments.values())
        top = ranked[0]
        cells["AUTO ID*"] = kaleidoscope_code(top)
        cells["PULSES"] = cells["N"] = str(pulses)
        cells["MATCHING"] = str(segments[top])
        cells["MATCH RATIO"] = f"{segments[top] / pulses:.3f}"
        for column, label in zip(("ALTERNATE 1", "ALTERNATE 2"), ranked[1:3], strict=False):
            cells[column] = kaleidoscope_code(label)
    else:
        cells["AUTO ID*"] = KALEIDOSCOPE_NOISE
    confirmed = [r.species_final for r in rows if r.status in (STATUS_CONFIRMED, STATUS_RELABELLED)]
    manual = list(dict.fromkeys([*confirmed, *recording.recording.review.manual_species]))
    if manual:
        cells["MANUAL ID"] = ";".join(dict.fromkeys(kaleidoscope_code(s) for s in manual))
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
    """The Kaleidoscope ``id.csv`` (:data:`KALEIDOSCOPE_COLUMNS`)."""
    with AtomicTextFile(path) as f:
        writer = CsvWriter(f)
        writer.writerow(KALEIDOSCOPE_COLUMNS)
        writer.writerows([row[c] for c in KALEIDOSCOPE_COLUMNS] for row in table)


def summary_table(summary: SurveySummary) -> list[list[str]]:
    """The summary as rows of :data:`SUMMARY_COLUMNS`: the survey ("all"), then each night."""
    return [
        [night, inert_text(c.species), str(c.detections), str(c.confirmed), str(c.rejected),
         str(c.recordings_confirmed)]
        for night, counts in ((SUMMARY_ALL_NIGHTS, summary.species), *summary.nights)
        for c in counts
    ]  # fmt: skip


def write_summary_table(path: Path, table: Sequence[Sequence[str]]) -> None:
    """The summary CSV: :data:`SUMMARY_COLUMNS`, rows from :func:`summary_table`."""
    with AtomicTextFile(path) as f:
        writer = CsvWriter(f)
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
    scope: str | None = None,
    which: str = "all",
    limit: int = 100,
) -> ExportPreview:
    """The first ``limit`` rows of an export as they will be written, and their count."""
    rows = select_rows(recordings, export_scope(fmt, scope), which)
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
