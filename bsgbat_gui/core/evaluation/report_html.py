"""The survey report as one self-contained HTML file: inline CSS (with print rules), inline SVG
figures, no JavaScript, nothing fetched from a network; every text from the survey escaped.

Sections (ids in brackets, documented in the README): survey [survey], sites [sites], species
[species], verification sample [sample], activity through the night [activity], species × night
[nights], emergence [emergence], thresholds [thresholds], model set, reviewers and citation
[provenance].
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from bsgbat_gui.core.evaluation.night_activity import SOURCE_NONE
from bsgbat_gui.core.evaluation.report_svg import binned_bars, heatmap, scatter, strip_plot
from bsgbat_gui.core.evaluation.sampling import METHOD_DECISIONS, METHOD_NONE, METHOD_SAMPLE
from bsgbat_gui.core.evaluation.survey_figures import (
    REFERENCES,
    activity_counts,
    emergence_by_species,
    most_active_species,
    night_matrices,
    site_points,
)
from bsgbat_gui.core.files import AtomicTextFile
from bsgbat_gui.core.review.survey import NIGHT_UNKNOWN

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from bsgbat_gui.core.evaluation.report import SurveyReport

ACTIVITY_PANELS = 8  # species drawn in the activity figures (the most detected)
_METHOD_TEXT = {
    METHOD_SAMPLE: "verification sample (stratified)",
    METHOD_DECISIONS: "all decisions (not a random sample)",
    METHOD_NONE: "not reviewed",
}

CSS = """
:root { --ink: #222; --rule: #ccc; --soft: #f3f6fa; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 24px auto; max-width: 1100px; padding: 0 16px; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 2px solid var(--rule); padding-bottom: 2px;
     margin-top: 1.6em; }
h3 { font-size: 1.05em; }
.meta { color: #555; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.9em; }
th, td { border: 1px solid var(--rule); padding: 3px 8px; vertical-align: top; }
th { background: var(--soft); text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.nw { white-space: nowrap; }
.sp { font-style: italic; }
svg.figure { max-width: 100%; height: auto; display: block; margin: 8px 0; }
figure { margin: 8px 0 16px; }
figcaption { color: #555; font-size: 0.9em; }
.note { color: #555; font-size: 0.9em; }
.warn { color: #8a4b00; }
code { font-size: 0.95em; }
@page { size: A4; margin: 14mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid-page; }
  figure, tr { break-inside: avoid-page; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
"""


def _cell(value: object, *, numeric: bool = False, css: str = "") -> str:
    classes = " ".join(c for c in ("n" if numeric else "", css) if c)
    attribute = f' class="{classes}"' if classes else ""
    return f"<td{attribute}>{escape(str(value))}</td>"


def _table(
    table_id: str, headers: Sequence[str], rows: Iterable[Sequence[str]], caption: str = ""
) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    cap = f"<caption class='note'>{escape(caption)}</caption>" if caption else ""
    return (
        f'<table id="{table_id}">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _fmt(value: float | None, pattern: str = "{:.3f}") -> str:
    return "—" if value is None else pattern.format(value)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _interval(low: float | None, high: float | None, pattern: str = "{:.1f}") -> str:
    if low is None or high is None:
        return "—"
    return f"{pattern.format(low)}–{pattern.format(high)}"


def _section(section_id: str, title: str, *parts: str) -> str:
    return f'<section id="{section_id}"><h2>{escape(title)}</h2>{"".join(parts)}</section>'


def _p(text: str, css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    return f"<p{attribute}>{escape(text)}</p>"


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def report_html(report: SurveyReport) -> str:
    """The report's HTML text."""
    parts = [
        _header(report),
        _survey_section(report),
        _sites_section(report),
        _species_section(report),
        _sample_section(report),
        _activity_section(report),
        _nights_section(report),
        _emergence_section(report),
        _thresholds_section(report),
        _provenance_section(report),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(report.title)}</title><style>{CSS}</style></head><body>"
        + "".join(parts)
        + "</body></html>\n"
    )


def write_report(path: Path, report: SurveyReport) -> None:
    """Write the report's HTML to ``path`` atomically (whole or not at all)."""
    with AtomicTextFile(path) as f:
        f.write(report_html(report))


def _header(report: SurveyReport) -> str:
    return (
        f"<header><h1>{escape(report.title)}</h1>"
        f'<p class="meta">Generated {escape(report.generated_at)} by bsgbat-gui '
        f"{escape(report.app_version)}.</p></header>"
    )


def _survey_section(report: SurveyReport) -> str:
    activity = report.activity
    dated = [n for n in report.nights if n != NIGHT_UNKNOWN]
    nights = f"{len(dated)} ({dated[0]} to {dated[-1]})" if dated else "0"
    if NIGHT_UNKNOWN in report.nights:
        nights += " and recordings without a date"
    rows = [
        ("Recordings", str(report.recordings)),
        ("Reviewed recordings", str(report.reviewed_recordings)),
        ("Nights", nights),
        ("Sites", str(len(activity.sites))),
        ("Detected passes placed relative to the sun", str(activity.placed_passes)),
        ("Detected passes not placed", str(activity.unplaced_passes)),
    ]
    body = "".join(f"<tr><th>{escape(k)}</th>{_cell(v)}</tr>" for k, v in rows)
    parts = [f'<table id="survey-table"><tbody>{body}</tbody></table>']
    if activity.unplaced:
        parts.append("<h3>Recordings not placed relative to the sun</h3>")
        parts.append(
            _table(
                "unplaced-table",
                ("Why", "Folder", "Recordings"),
                (
                    [_cell(u.reason), _cell(u.folder), _cell(_listing(u.recordings))]
                    for u in activity.unplaced
                ),
                "Give a folder's position in the window (View → Survey figures… → Sites; kept "
                "in the review store) or with --site-position FOLDER=LAT,LON.",
            )
        )
    if report.problems:
        items = "".join(f"<li>{escape(p)}</li>" for p in report.problems)
        parts.append(f'<h3>Problems met</h3><ul class="warn">{items}</ul>')
    return _section("survey", "Survey", *parts)


def _listing(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _sites_section(report: SurveyReport) -> str:
    sites = report.activity.sites
    table = _table(
        "sites-table",
        ("Site", "Latitude", "Longitude", "Position from", "Recordings", "Nights",
         "Detected passes", "Verified passes", "Species detected", "Species verified"),
        (
            [
                _cell(s.name), _cell(_fmt(s.latitude, "{:.5f}"), numeric=True),
                _cell(_fmt(s.longitude, "{:.5f}"), numeric=True),
                _cell(s.position_source if s.position_source != SOURCE_NONE else "— (none)"),
                _cell(s.recordings, numeric=True), _cell(len(s.nights), numeric=True),
                _cell(s.detections, numeric=True), _cell(s.verified, numeric=True),
                _cell(", ".join(s.species_detected), css="sp"),
                _cell(", ".join(s.species_verified), css="sp"),
            ]
            for s in sites
        ),
    )  # fmt: skip
    figure = _figure(
        scatter(site_points(report.activity), label="Sites by latitude and longitude"),
        "Sites by position (WGS84 degrees; no map). Sites without a position are not drawn.",
    )
    return _section("sites", "Sites", table, figure)


def _species_section(report: SurveyReport) -> str:
    rows = []
    for line in report.species:
        p = line.precision
        true_interval = p.true_passes_interval
        rows.append(
            [
                f'<td><span class="sp">{escape(line.species)}</span>'
                + (
                    f"<br><small>{escape(line.common_name)}</small>"
                    if line.common_name != line.species
                    else ""
                )
                + "</td>",
                _cell(line.detections, numeric=True),
                _cell(line.verified, numeric=True),
                _cell(line.rejected, numeric=True),
                _cell(f"{p.confirmed} / {p.decided}", numeric=True),
                _cell(_percent(p.precision), numeric=True),
                _cell(
                    _interval(
                        None if p.low is None else 100 * p.low,
                        None if p.high is None else 100 * p.high,
                    )
                    + (" %" if p.low is not None else ""),
                    numeric=True,
                ),
                _cell(_fmt(p.true_passes, "{:.0f}"), numeric=True),
                _cell(
                    "—" if true_interval is None else _interval(*true_interval, "{:.0f}"),
                    numeric=True,
                ),
                _cell(_METHOD_TEXT.get(p.method, p.method)),
            ]
        )
    table = _table(
        "species-table",
        ("Species", "Detections", "Verified", "Rejected", "Confirmed / decided", "Precision",
         "95 % interval", "Est. true passes", "95 % interval", "Precision from"),
        rows,
    )  # fmt: skip
    note = _p(
        "Detections: events at the thresholds (any review status). Verified: confirmed as, or "
        "relabelled to, the species. Rejected: its detections a reviewer rejected. Precision: "
        "the share of the species' detections that are right, from the verification sample "
        "weighted back to all detections (stratified estimate, Wilson interval on the "
        "effective sample size), or, without a sample, the confirmed share of all decisions "
        "(Wilson interval; reviewers choose what they look at, so this is not a random "
        "sample). Est. true passes: precision × detections. A precision of — with an "
        "interval: a stratum of the sample is not reviewed yet, and the interval is the worst "
        "case for it.",
        "note",
    )
    return _section("species", "Species", table, note)


def _sample_section(report: SurveyReport) -> str:
    sample = report.sample
    if sample is None:
        return _section(
            "sample",
            "Verification sample",
            _p(
                "No verification sample drawn (Review → Review a sample… in the window, or "
                "bsgbat-gui report --sample-per-stratum N --seed S, draws one and queues it "
                "for review).",
                "note",
            ),
        )
    edges = ", ".join(f"{e:g}" for e in sample.edges)
    summary = _p(
        f"{sample.size} detections sampled ({sample.per_stratum} per species × probability "
        f"bin, seed {sample.seed}, bins at {edges}, drawn {sample.created_at}); "
        f"{sample.decided} decided so far"
        + (f"; {sample.missing} no longer detections at these thresholds" if sample.missing else "")
        + "."
    )
    rows = [
        [
            _cell(line.species, css="sp"),
            _cell(f"{s.low:g}–{s.high:g}"),
            _cell(s.detections, numeric=True),
            _cell(s.sampled, numeric=True),
            _cell(s.decided, numeric=True),
            _cell(s.confirmed, numeric=True),
        ]
        for line in report.species
        for s in line.precision.strata
        if s.detections
    ]
    table = _table(
        "strata-table",
        ("Species", "Max. probability", "Detections", "Sampled", "Decided", "Confirmed"),
        rows,
    )
    return _section("sample", "Verification sample", summary, table)


def _activity_section(report: SurveyReport) -> str:
    activity = report.activity
    ranked = most_active_species(activity)
    chosen = ranked[:ACTIVITY_PANELS]
    figures = []
    for reference, x_label in REFERENCES:
        panels = [(species, activity_counts(activity, reference, species)) for species in chosen]
        figures.append(
            _figure(
                binned_bars(
                    panels,
                    bin_width=activity.bin_minutes,
                    x_label=x_label,
                    reverse=reference == "sunrise",
                    label=f"Passes per {activity.bin_minutes} minutes, {x_label}",
                ),
                f"Passes per species per {activity.bin_minutes}-minute bin, {x_label} "
                "(all placed nights and sites together; light: detected, dark: verified).",
            )
        )
    note = ""
    if len(ranked) > len(chosen):
        note = _p(f"The {len(chosen)} species with the most passes of {len(ranked)}.", "note")
    return _section("activity", "Activity through the night", *figures, note)


def _nights_section(report: SurveyReport) -> str:
    parts = []
    for matrix in night_matrices(report.activity):
        parts.append(f"<h3>{escape(matrix.site)}</h3>")
        parts.append(
            _figure(
                heatmap(
                    matrix.species,
                    matrix.nights,
                    matrix.values,
                    label=f"Species by night at {matrix.site}",
                ),
                "Passes per species and night (detected / verified); shade by detected passes.",
            )
        )
    if not parts:
        parts.append(_p("No passes.", "note"))
    return _section("nights", "Species × night, per site", *parts)


def _emergence_section(report: SurveyReport) -> str:
    emergence = report.activity.emergence
    figure = _figure(
        strip_plot(
            emergence_by_species(report.activity),
            label="First and last detected pass of each night",
            x_label="minutes after sunset",
        ),
        "First (filled) and last (open) detected pass of each species on each night and site, "
        "minutes after sunset.",
    )
    table = _table(
        "emergence-table",
        ("Site", "Night", "Species", "Sunset", "Sunrise", "First detected", "Last detected",
         "First verified", "Last verified"),
        (
            [
                _cell(e.site), _cell(e.night, css="nw"), _cell(e.species, css="sp"),
                _cell(e.sunset[11:16]), _cell(e.sunrise[11:16]),
                _cell(_fmt(e.first_detected_min, "{:.0f}"), numeric=True),
                _cell(_fmt(e.last_detected_min, "{:.0f}"), numeric=True),
                _cell(_fmt(e.first_verified_min, "{:.0f}"), numeric=True),
                _cell(_fmt(e.last_verified_min, "{:.0f}"), numeric=True),
            ]
            for e in emergence
        ),
        "Minutes after sunset; sunset and sunrise in the recorder's time zone (astral).",
    )  # fmt: skip
    return _section("emergence", "Emergence: first and last passes", figure, table)


def _thresholds_section(report: SurveyReport) -> str:
    table = _table(
        "thresholds-table",
        ("Species", "Threshold", "Excluded"),
        (
            [_cell(label, css="sp"), _cell(f"{t:.3f}", numeric=True), _cell("yes" if x else "")]
            for label, t, x in report.thresholds
        ),
    )
    return _section(
        "thresholds",
        "Thresholds",
        _p(f"Combine method of the six models: {report.combine}."),
        table,
    )


def _provenance_section(report: SurveyReport) -> str:
    models = _table(
        "models-table",
        ("Model set (SHA-256 identity)", "Recordings"),
        ([f"<td><code>{escape(m)}</code></td>", _cell(n, numeric=True)] for m, n in
         report.model_sets),
    )  # fmt: skip
    reviewers = _table(
        "reviewers-table",
        ("Reviewer", "Decisions"),
        ([_cell(name), _cell(n, numeric=True)] for name, n in report.reviewers),
    )
    return _section(
        "provenance",
        "Models, reviewers and citation",
        models,
        reviewers if report.reviewers else _p("No decisions yet.", "note"),
        _p(f"bsgbat-gui {report.app_version}."),
        "<h3>How to cite the models</h3>",
        f"<blockquote>{escape(report.citation)}</blockquote>",
    )
