"""Reading human annotations of a folder of recordings, to evaluate the models against them.

Formats (the header decides; several files can be combined):

* BriteKit **per-segment** CSV: ``recording,class,start_time,end_time``;
* BriteKit **per-block** CSV: ``recording,block,classes`` (block 1 = the first ``block_s``
  seconds; classes comma-separated, may be empty);
* BriteKit **per-recording** CSV: ``recording,classes``;
* **Raven** selection tables (tab-separated, ``Begin Time (s)``/``End Time (s)`` and a
  ``Species``, ``Annotation``, ``Class`` or ``Label`` column; the recording from ``Begin File``
  or else the table's own file name). Rows with a ``Status`` column that is not confirmed or
  relabelled (bsgbat-gui's own Raven export) are not annotations and are skipped.

``recording`` is the file stem (``XC12345``, not ``XC12345.wav``). A class is a model label
(scientific name), a species code (``Pippip``, any case) or an English name; anything else is
reported with its line and left out. Times are seconds in the **file's** time by default (what
Raven, Audacity and BriteKit measure, and what bsgbat-gui's own exports write): for a
time-expanded recording they are divided by the expansion factor; ``time_base="real"`` says the
file already holds real-time seconds.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bsgbat_gui.core.review.decisions import STATUS_CONFIRMED, STATUS_RELABELLED
from bsgbat_gui.core.species import species_for_label

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

GRANULARITY_SEGMENT, GRANULARITY_BLOCK, GRANULARITY_RECORDING = "segment", "block", "recording"
GRANULARITIES = (GRANULARITY_SEGMENT, GRANULARITY_BLOCK, GRANULARITY_RECORDING)
TIME_BASES = ("file", "real")
RAVEN_SPECIES_COLUMNS = ("Species", "Annotation", "Class", "Label", "species", "class")
_RAVEN_NAME = re.compile(r"(\.Table\.\d+)?(\.selections)?\.txt$", re.IGNORECASE)


class AnnotationError(ValueError):
    """An annotation file that cannot be used at all (unreadable, unknown format)."""


@dataclass(frozen=True)
class Annotation:
    """One annotated class in a recording: a segment, a block or the whole recording."""

    recording: str  # file stem
    species: str  # model label
    start_s: float | None = None  # per-segment: seconds in the file's time base
    end_s: float | None = None
    block: int | None = None  # per-block: 1-based


@dataclass(frozen=True)
class AnnotationSet:
    """Annotations read from one or more files, with what could not be used."""

    granularity: str  # the finest granularity every file supports
    annotations: tuple[Annotation, ...]
    recordings: frozenset[str]  # every recording the files mention, with or without classes
    problems: tuple[str, ...]  # "file:line: …", rows left out


def class_lookup(labels: Sequence[str]) -> dict[str, str]:
    """Lower-case class names (labels, species codes, English names) → model label."""
    lookup: dict[str, str] = {}
    for label in labels:
        species = species_for_label(label)
        for name in (label, species.code, species.common_name):
            lookup.setdefault(name.strip().lower(), label)
    return lookup


def read_annotations(paths: Iterable[Path], labels: Sequence[str]) -> AnnotationSet:
    """Read annotation files (format by header); classes mapped to ``labels``."""
    lookup = class_lookup(labels)
    annotations: list[Annotation] = []
    recordings: set[str] = set()
    problems: list[str] = []
    granularities: list[str] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise AnnotationError(f"{path}: cannot be read ({exc})") from exc
        first = text.splitlines()[0] if text.strip() else ""
        if "\t" in first and "Begin Time (s)" in first:
            granularity = GRANULARITY_SEGMENT
            found = _read_raven(path, text, lookup, problems)
        else:
            granularity, found = _read_britekit(path, text, lookup, problems)
        granularities.append(granularity)
        for recording, annotation in found:
            recordings.add(recording)
            if annotation is not None:
                annotations.append(annotation)
    if not granularities:
        raise AnnotationError("no annotation files given")
    coarsest = max(granularities, key=GRANULARITIES.index)
    return AnnotationSet(coarsest, tuple(annotations), frozenset(recordings), tuple(problems))


def _species(name: str, lookup: dict[str, str], where: str, problems: list[str]) -> str | None:
    label = lookup.get(name.strip().lower())
    if label is None:
        problems.append(f"{where}: unknown class {name.strip()!r} (not a species of the models)")
    return label


def _seconds(text: str, where: str, problems: list[str]) -> float | None:
    try:
        value = float(text)
    except ValueError:
        problems.append(f"{where}: {text!r} is not a time in seconds")
        return None
    if value < 0:
        problems.append(f"{where}: negative time {value}")
        return None
    return value


def _read_britekit(
    path: Path, text: str, lookup: dict[str, str], problems: list[str]
) -> tuple[str, list[tuple[str, Annotation | None]]]:
    reader = csv.DictReader(text.splitlines())
    columns = {c.strip() for c in reader.fieldnames or ()}
    if {"recording", "class", "start_time", "end_time"} <= columns:
        granularity = GRANULARITY_SEGMENT
    elif {"recording", "block", "classes"} <= columns:
        granularity = GRANULARITY_BLOCK
    elif {"recording", "classes"} <= columns:
        granularity = GRANULARITY_RECORDING
    else:
        raise AnnotationError(
            f"{path}: not a BriteKit annotation CSV (recording,class,start_time,end_time | "
            "recording,block,classes | recording,classes) nor a Raven selection table"
        )
    found: list[tuple[str, Annotation | None]] = []
    for line, row in enumerate(reader, start=2):
        where = f"{path.name}:{line}"
        recording = Path((row.get("recording") or "").strip()).stem
        if not recording:
            problems.append(f"{where}: no recording")
            continue
        if granularity == GRANULARITY_SEGMENT:
            label = _species(row.get("class") or "", lookup, where, problems)
            start = _seconds(row.get("start_time") or "", where, problems)
            end = _seconds(row.get("end_time") or "", where, problems)
            if start is not None and end is not None and end < start:
                problems.append(f"{where}: end_time before start_time")
                continue
            found.append((recording, None))
            if label is not None and start is not None and end is not None:
                found.append((recording, Annotation(recording, label, start, end)))
            continue
        block: int | None = None
        if granularity == GRANULARITY_BLOCK:
            try:
                block = int(row.get("block") or "")
                if block < 1:
                    raise ValueError
            except ValueError:
                problems.append(f"{where}: block {row.get('block')!r} is not 1, 2, …")
                continue
        found.append((recording, None))
        for name in (row.get("classes") or "").split(","):
            if name.strip():
                label = _species(name, lookup, where, problems)
                if label is not None:
                    found.append((recording, Annotation(recording, label, block=block)))
    return granularity, found


def _read_raven(
    path: Path, text: str, lookup: dict[str, str], problems: list[str]
) -> list[tuple[str, Annotation | None]]:
    rows = list(csv.DictReader(text.splitlines(), delimiter="\t"))
    columns = set(rows[0]) if rows else set(text.splitlines()[0].split("\t"))
    species_column = next((c for c in RAVEN_SPECIES_COLUMNS if c in columns), None)
    if species_column is None:
        raise AnnotationError(
            f"{path}: a Raven table without a species column ({', '.join(RAVEN_SPECIES_COLUMNS)})"
        )
    own_name = _RAVEN_NAME.sub("", path.name)
    found: list[tuple[str, Annotation | None]] = [] if "Begin File" in columns else [
        (own_name, None)
    ]  # fmt: skip
    for line, row in enumerate(rows, start=2):
        where = f"{path.name}:{line}"
        recording = Path(row["Begin File"]).stem if row.get("Begin File") else own_name
        found.append((recording, None))
        status = (row.get("Status") or "").strip()
        if status and status not in (STATUS_CONFIRMED, STATUS_RELABELLED):
            continue  # a detection that was not verified is not an annotation
        label = _species(row.get(species_column) or "", lookup, where, problems)
        start = _seconds(row.get("Begin Time (s)") or "", where, problems)
        end = _seconds(row.get("End Time (s)") or "", where, problems)
        if label is not None and start is not None and end is not None:
            found.append((recording, Annotation(recording, label, start, end)))
    return found
