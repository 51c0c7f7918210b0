"""Reading decisions back from an exported CSV (edited in a spreadsheet) into the review store.

A row is matched to the store by its ``path``, ``species_auto`` and span: first to the decision
already made on that event (same rule as the window: :func:`attach_decisions`), else to an event
at the current thresholds. A row that matches neither is reported with its line number, never
guessed. Only what the spreadsheet can change is read: ``status``, ``species_final``, ``note``
(and ``reviewer`` when filled in); a row whose values equal the store's changes nothing, so
importing an unedited export is a no-op.

``status`` ``unreviewed`` on a row whose event has a decision removes the decision.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bsgbat_gui.core.checklist import european_checklist
from bsgbat_gui.core.csv_text import plain_text  # undoes the export's inert_text
from bsgbat_gui.core.review.decisions import (
    OTHER_LABELS,
    STATUS_CONFIRMED,
    STATUS_REJECTED,
    STATUS_RELABELLED,
    Decision,
    attach_decisions,
)
from bsgbat_gui.core.review.survey import ROW_STATUSES, STATUS_UNREVIEWED, RecordingRows

if TYPE_CHECKING:
    from collections.abc import Sequence

REQUIRED_COLUMNS = ("path", "species_auto", "start_s", "end_s", "status")
# A spreadsheet opened and saved again may add a byte-order mark or round the times; both are
# tolerated (times match by overlap, not equality).


class DecisionImportError(Exception):
    """The file cannot be imported at all (unreadable, not an export)."""


Change = tuple[Decision | None, Decision | None]  # (before, after); None: no decision


@dataclass
class ImportPlan:
    """What importing a file would change (apply with ``ReviewStore.apply_changes``)."""

    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)  # "line N: reason"

    @property
    def counts(self) -> dict[str, int]:
        """New, changed, cleared, unchanged and unmatched rows."""
        return {
            "new": sum(1 for b, a in self.changes if b is None and a is not None),
            "changed": sum(1 for b, a in self.changes if b is not None and a is not None),
            "cleared": sum(1 for b, a in self.changes if b is not None and a is None),
            "unchanged": self.unchanged,
            "not matched": len(self.problems),
        }

    def describe(self) -> str:
        """The counts in one line (``3 new, 1 changed, …``)."""
        return ", ".join(f"{n} {what}" for what, n in self.counts.items())


def plan_import(
    csv_path: Path,
    recordings: Sequence[RecordingRows],
    decisions: Sequence[Decision],
    labels: Sequence[str],
    *,
    reviewer: str = "",
) -> ImportPlan:
    """Match every row of ``csv_path`` and work out the changes to ``decisions``.

    ``recordings`` are the survey's rows at the current thresholds (the events a new decision
    can be made on); ``reviewer`` signs changed decisions whose row names no reviewer.
    """
    try:
        with csv_path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise DecisionImportError(
                    f"{csv_path.name}: not a bsgbat-gui detections CSV (no column "
                    f"{', '.join(missing)})"
                )
            table = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DecisionImportError(f"{csv_path}: cannot be read ({exc})") from None

    checklist = european_checklist()
    # A relabel names a model label, a checklist label (or its code), or free text a reviewer
    # already gave in this store: anything else is most likely a typo, reported.
    known_free_text = {d.final_species for d in decisions if d.final_species}
    allowed_final = set(labels) | set(OTHER_LABELS) | known_free_text
    events_of = {rec.recording.path: rec for rec in recordings}
    decisions_of: dict[Path, list[Decision]] = {}
    for d in decisions:
        decisions_of.setdefault(d.path, []).append(d)
    plan = ImportPlan()
    claimed: dict[object, int] = {}  # decision id (or new event) -> line that changed it
    for line, row in table:
        try:
            path = Path(plain_text(row["path"] or ""))
            species = plain_text(row["species_auto"] or "")
            start_s, end_s = float(row["start_s"]), float(row["end_s"])
            status = (row["status"] or "").strip().lower()
        except (TypeError, ValueError):
            plan.problems.append(f"line {line}: start_s/end_s are not numbers")
            continue
        final = plain_text((row.get("species_final") or "").strip())
        note = plain_text(row.get("note") or "")
        row_reviewer = plain_text((row.get("reviewer") or "").strip())
        if status not in ROW_STATUSES:
            plan.problems.append(
                f"line {line}: status {status!r} is not one of {', '.join(ROW_STATUSES)}"
            )
            continue
        if status == STATUS_RELABELLED and final not in allowed_final:
            taxon = checklist.find(final)
            if taxon is None:
                plan.problems.append(
                    f"line {line}: relabelled to {final!r}, which is not in the checklist "
                    "(give its scientific name or code, or relabel it in the window)"
                )
                continue
            final = taxon.name
        existing = decisions_of.get(path, [])
        k = int(attach_decisions([path], [species], [start_s], [end_s], existing)[0])
        before = existing[k] if k >= 0 else None
        span = (start_s, end_s)
        if before is None:
            event_span = _matching_event(events_of.get(path), species, start_s, end_s)
            if event_span is None:
                if status != STATUS_UNREVIEWED:
                    plan.problems.append(
                        f"line {line}: no {species} detection near {start_s:.3f}–{end_s:.3f} s "
                        f"in {path} (not in this store, or not detected at these thresholds)"
                    )
                else:
                    plan.unchanged += 1
                continue
            span = event_span
        after = _decision_after(before, path, species, span, status, final, note, row_reviewer)
        if _same(before, after):
            plan.unchanged += 1
            continue
        key: object = before.id if before is not None else (path, species, span)
        if key in claimed:
            plan.problems.append(
                f"line {line}: the same detection as line {claimed[key]}, with other values; "
                "kept line " + str(claimed[key])
            )
            continue
        claimed[key] = line
        if after is not None and not after.reviewer:
            after = replace(after, reviewer=reviewer)
        plan.changes.append((before, after))
    return plan


def _matching_event(
    recording: RecordingRows | None, species: str, start_s: float, end_s: float
) -> tuple[float, float] | None:
    if recording is None:
        return None
    events = [r for r in recording.rows if r.is_event and r.species_auto == species]
    if not events:
        return None
    starts = np.array([r.start_s for r in events])
    ends = np.array([r.end_s for r in events])
    overlap = np.minimum(ends, end_s) - np.maximum(starts, start_s)
    shorter = np.minimum(ends - starts, end_s - start_s)
    best = int(np.argmax(overlap))
    if overlap[best] <= 0.25 * shorter[best]:
        return None
    return events[best].start_s, events[best].end_s


def _decision_after(
    before: Decision | None,
    path: Path,
    species: str,
    span: tuple[float, float],
    status: str,
    final: str,
    note: str,
    reviewer: str,
) -> Decision | None:
    if status == STATUS_UNREVIEWED:
        return None
    if status == STATUS_CONFIRMED:
        final = species
    elif status == STATUS_REJECTED:
        final = ""
    elif final == species:  # "relabelled" to its own species is a confirmation
        status = STATUS_CONFIRMED
    base = before or Decision(path, species, span[0], span[1], status)
    return replace(
        base,
        status=status,
        final_species=final,
        note=note,
        reviewer=reviewer or base.reviewer,
        decided_at="",  # now, when stored
    )


def _same(before: Decision | None, after: Decision | None) -> bool:
    if before is None or after is None:
        return before is after
    final_before = before.final_species or (
        before.species if before.status == STATUS_CONFIRMED else ""
    )
    return (before.status, final_before, before.note) == (
        after.status,
        after.final_species,
        after.note,
    )
