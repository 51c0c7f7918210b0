"""The numbers behind each survey figure, shaped for drawing: the report's static SVG
(:mod:`~bsgbat_gui.core.evaluation.report_html`) and the window's pyqtgraph figures
(:mod:`bsgbat_gui.gui.survey_figures`) draw the same series from here, so the two never
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bsgbat_gui.core.review.survey import NIGHT_UNKNOWN

if TYPE_CHECKING:
    from bsgbat_gui.core.evaluation.night_activity import NightActivity

REFERENCES = (("sunset", "minutes after sunset"), ("sunrise", "minutes before sunrise"))


def most_active_species(activity: NightActivity, limit: int | None = None) -> list[str]:
    """Species by passes placed relative to sunset (detected + verified), most first."""
    totals: dict[str, int] = {}
    for a in activity.activity:
        if a.reference == "sunset":
            totals[a.species] = totals.get(a.species, 0) + a.detections + a.verified
    ranked = sorted(totals, key=lambda s: (-totals[s], s))
    return ranked if limit is None else ranked[:limit]


def activity_counts(
    activity: NightActivity, reference: str, species: str | None
) -> dict[int, tuple[int, int]]:
    """Per bin start (minutes after sunset, or before sunrise): (detected, verified) passes of
    ``species`` (None: every species together).
    """
    counts: dict[int, tuple[int, int]] = {}
    for a in activity.activity:
        if a.reference == reference and (species is None or a.species == species):
            detected, verified = counts.get(a.minute, (0, 0))
            counts[a.minute] = (detected + a.detections, verified + a.verified)
    return dict(sorted(counts.items()))


@dataclass(frozen=True)
class NightMatrix:
    """A site's passes per species (rows) and night (columns): (detected, verified)."""

    site: str
    species: tuple[str, ...]
    nights: tuple[str, ...]
    values: dict[tuple[str, str], tuple[int, int]]


def night_matrices(activity: NightActivity) -> list[NightMatrix]:
    """One :class:`NightMatrix` per site with passes, in the sites' order."""
    matrices = []
    for site in activity.sites:
        counts = [n for n in activity.nights if n.site == site.name]
        if not counts:
            continue
        nights = sorted({n.night for n in counts}, key=lambda n: (n == NIGHT_UNKNOWN, n))
        species = sorted({n.species for n in counts})
        values = {(n.species, n.night): (n.detections, n.verified) for n in counts}
        matrices.append(NightMatrix(site.name, tuple(species), tuple(nights), values))
    return matrices


def emergence_by_species(activity: NightActivity) -> list[tuple[str, list[float], list[float]]]:
    """Per species (sorted): its first and its last detected pass of each night and site,
    minutes after sunset.
    """
    by_species: dict[str, tuple[list[float], list[float]]] = {}
    for e in activity.emergence:
        first, last = by_species.setdefault(e.species, ([], []))
        if e.first_detected_min is not None:
            first.append(e.first_detected_min)
        if e.last_detected_min is not None:
            last.append(e.last_detected_min)
    return [(s, f, la) for s, (f, la) in sorted(by_species.items())]


def site_points(activity: NightActivity) -> list[tuple[float, float, str]]:
    """(longitude, latitude, name) of every site with a position."""
    return [
        (s.longitude, s.latitude, s.name)
        for s in activity.sites
        if s.latitude is not None and s.longitude is not None
    ]
