"""The survey report's numbers on a synthetic multi-night, multi-site survey: sun times against
astral, bins by hand, sites, unplaced recordings, a golden file of every table, and the HTML
read back.

To regenerate the golden file after a deliberate change::

    BSGBAT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/core/evaluation/test_report_numbers.py

then review the diff of ``tests/golden/report/`` before committing it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from astral import Observer
from astral.sun import sunrise, sunset
from report_survey import (
    EPTSER,
    MODEL_SET_ID,
    NORTH,
    NYCNOC,
    PIPPIP,
    PIPPYG,
    SETTINGS,
    SOUTH,
    report_analyses,
    report_survey,
)

from bsgbat_gui.core.evaluation.night_activity import (
    PositionError,
    night_activity,
    parse_site_position,
    sun_times,
)
from bsgbat_gui.core.evaluation.report import report_numbers, survey_report
from bsgbat_gui.core.evaluation.report_html import report_html
from bsgbat_gui.core.evaluation.sampling import draw_sample
from bsgbat_gui.core.review.survey import Survey, SurveyRecording, recording_rows

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "report" / "numbers.json"
POSITIONS = {"south": SOUTH}


@pytest.mark.parametrize(
    ("latitude", "longitude", "zone", "night"),
    [
        (51.5072, -0.1276, "Europe/London", dt.date(2024, 6, 21)),
        (52.37, 4.89, "Europe/Amsterdam", dt.date(2024, 12, 21)),
        (40.4168, -3.7038, "Europe/Madrid", dt.date(2023, 3, 26)),  # the night DST begins
        (-33.87, 151.21, "Australia/Sydney", dt.date(2024, 7, 1)),
        (64.15, -21.94, "Atlantic/Reykjavik", dt.date(2024, 9, 1)),
    ],
)
def test_sun_times_equal_astrals(
    latitude: float, longitude: float, zone: str, night: dt.date
) -> None:
    tz = ZoneInfo(zone)
    times = sun_times(latitude, longitude, night, tz)
    observer = Observer(latitude, longitude)
    assert times.sunset == sunset(observer, night, tzinfo=tz)
    assert times.sunrise == sunrise(observer, night + dt.timedelta(days=1), tzinfo=tz)
    assert times.sunset is not None
    assert times.sunrise is not None
    assert times.sunset.date() == night
    assert times.sunrise > times.sunset


def test_london_midsummer_sunset_is_about_21_21_bst() -> None:
    times = sun_times(51.5072, -0.1276, dt.date(2024, 6, 21), ZoneInfo("Europe/London"))
    assert times.sunset is not None
    assert times.sunrise is not None
    assert times.sunset.strftime("%H:%M") == "21:21"
    assert times.sunrise.strftime("%H:%M") == "04:43"  # on the 22nd
    # The same instant whatever zone it is asked in (a fixed UTC+1 offset here).
    fixed = sun_times(51.5072, -0.1276, dt.date(2024, 6, 21), dt.timezone(dt.timedelta(hours=1)))
    assert fixed.sunset == times.sunset


def test_polar_day_has_no_sunset() -> None:
    times = sun_times(78.22, 15.65, dt.date(2024, 6, 21))  # Longyearbyen, midnight sun
    assert times.sunset is None


def _activity():
    return night_activity(recording_rows(report_survey()), POSITIONS)


def test_passes_fall_in_the_bins_worked_out_by_hand() -> None:
    activity = _activity()
    bins = {
        (a.species, a.reference, a.minute): (a.detections, a.verified) for a in activity.activity
    }
    # N1 at sunset + 25 min: pipistrelle at +0.5 s (confirmed) -> bin 20; its noctule was
    # rejected: no pass. N2 at sunset + 95 min, relabelled to soprano: detected pipistrelle and
    # verified soprano in bin 90. N3 at sunrise - 40 min (+1 s): bin 30 before sunrise.
    # N4 at sunset - 7 min: bin -10. S1 (the folder's given position) at sunset + 47 min +
    # 1.5 s -> bin 40. S2 at sunset + 130 min + 0.5 s -> bin 130.
    after_sunset = {k: v for k, v in bins.items() if k[1] == "sunset"}
    assert after_sunset[(PIPPIP, "sunset", 20)] == (1, 1)
    assert after_sunset[(PIPPIP, "sunset", 90)] == (1, 0)
    assert after_sunset[(PIPPYG, "sunset", 90)] == (0, 1)
    assert after_sunset[(NYCNOC, "sunset", -10)] == (1, 0)
    assert after_sunset[(EPTSER, "sunset", 40)] == (1, 1)
    assert after_sunset[(NYCNOC, "sunset", 130)] == (1, 1)
    assert bins[(PIPPIP, "sunrise", 30)] == (1, 0)
    # Every placed pass is in one bin per reference; E1 (no position) and W1 (no UTC offset)
    # are not placed.
    assert sum(d for (_, ref, _), (d, _) in bins.items() if ref == "sunset") == 6
    assert sum(d for (_, ref, _), (d, _) in bins.items() if ref == "sunrise") == 6
    assert (activity.placed_passes, activity.unplaced_passes) == (6, 2)
    reasons = {(u.reason, u.folder): u.recordings for u in activity.unplaced}
    assert reasons == {
        ("no position (set one for the folder)", "east"): ("E1.wav",),
        ("timestamp without a UTC offset", "west"): ("W1.wav",),
    }


def test_sunset_used_is_the_nights_own_at_the_site() -> None:
    activity = _activity()
    north_sunset = sun_times(*NORTH, dt.date(2024, 6, 1), dt.timezone(dt.timedelta(hours=2)))
    first = next(e for e in activity.emergence if e.species == PIPPIP and e.night == "2024-06-01")
    assert first.sunset == north_sunset.sunset.isoformat(timespec="seconds")
    assert first.first_detected_min == pytest.approx(25.0, abs=0.02)
    assert first.last_detected_min == pytest.approx(95.0, abs=0.02)
    assert first.first_verified_min == pytest.approx(25.0, abs=0.02)
    assert first.last_verified_min == pytest.approx(25.0, abs=0.02)


def test_sites_by_guano_position_else_folder() -> None:
    sites = {s.name: s for s in _activity().sites}
    assert set(sites) == {"east", "north (52.000, 4.500)", "south", "west (52.100, 4.400)"}
    north = sites["north (52.000, 4.500)"]
    assert (north.latitude, north.longitude, north.position_source) == (52.0, 4.5, "GUANO")
    assert north.nights == ("2024-06-01", "2024-06-02")
    assert north.species_verified == (PIPPIP, PIPPYG)
    assert sites["south"].position_source == "given"
    assert (sites["east"].latitude, sites["east"].position_source) == (None, "none")
    # Without the folder's position, south is listed as unplaced too.
    bare = night_activity(recording_rows(report_survey()))
    assert any(u.folder == "south" for u in bare.unplaced)


def test_site_position_argument() -> None:
    assert parse_site_position("site 1/north=52.5,-1.25") == ("site 1/north", (52.5, -1.25))
    for bad in ("north", "north=52", "north=x,y", "north=91,0", "=1,2"):
        with pytest.raises(PositionError):
            parse_site_position(bad)


def _report():
    survey = report_survey()
    recordings = recording_rows(survey)
    rows = [r for rec in recordings for r in rec.rows]
    sample = draw_sample(rows, per_stratum=2, seed=7)
    return survey_report(
        survey, recordings, title="Synthetic <survey>", positions=POSITIONS, sample=sample,
        generated_at="2024-06-10T10:00:00+02:00",
    )  # fmt: skip


def test_report_numbers_match_the_golden_file() -> None:
    actual = json.dumps(report_numbers(_report()), indent=1, sort_keys=True) + "\n"
    if os.environ.get("BSGBAT_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(actual, encoding="utf-8")
    assert actual == GOLDEN.read_text(encoding="utf-8")


def test_species_table_counts() -> None:
    lines = {line.species: line for line in _report().species}
    pip = lines[PIPPIP]
    assert (pip.detections, pip.verified, pip.rejected) == (5, 1, 0)
    noc = lines[NYCNOC]
    assert (noc.detections, noc.verified, noc.rejected) == (3, 1, 1)
    assert lines[PIPPYG].detections == 0
    assert lines[PIPPYG].verified == 1


class _Outline(HTMLParser):
    """Tables (by id), figures, scripts, external references and text of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, int] = {}  # id -> rows
        self.svgs = 0
        self.scripts = 0
        self.external: list[str] = []
        self.sections: list[str] = []
        self.text: list[str] = []
        self._table: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id") or "?"
            self.tables[self._table] = 0
        elif tag == "tr" and self._table is not None:
            self.tables[self._table] += 1
        elif tag == "svg":
            self.svgs += 1
        elif tag == "script":
            self.scripts += 1
        elif tag == "section":
            self.sections.append(a.get("id") or "?")
        for name in ("src", "href"):
            value = a.get(name)
            if value and not value.startswith("#"):
                self.external.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_has_every_section_table_and_figure_and_nothing_external() -> None:
    text = report_html(_report())
    outline = _Outline()
    outline.feed(text)
    assert outline.sections == [
        "survey", "sites", "species", "sample", "activity", "nights", "emergence",
        "thresholds", "provenance",
    ]  # fmt: skip
    for table in ("survey-table", "unplaced-table", "sites-table", "species-table",
                  "strata-table", "emergence-table", "thresholds-table", "models-table",
                  "reviewers-table"):  # fmt: skip
        assert outline.tables.get(table, 0) >= 2, table
    assert outline.tables["species-table"] == 1 + 4
    # Sites scatter, two activity figures, a heatmap per site (4), the emergence strip plot.
    assert outline.svgs == 1 + 2 + 4 + 1
    assert outline.scripts == 0
    assert outline.external == []
    body = "".join(outline.text)
    assert "Synthetic <survey>" in body  # escaped in the source, itself once parsed
    assert "<survey>" not in text
    assert "zenodo.15495676" in body
    assert "Ann" in body
    assert "mean" in body


def test_html_escapes_user_controlled_names() -> None:
    evil = "<img src=x onerror=alert(1)>"
    analyses = [
        replace(a, info=replace(a.info, path=Path("/survey") / evil / f"{evil}.wav"))
        if a.info.path.name == "E1.wav"
        else a
        for a in report_analyses(Path("/survey"))
    ]
    survey = Survey.of([SurveyRecording(a, MODEL_SET_ID) for a in analyses], SETTINGS)
    report = survey_report(survey, recording_rows(survey), positions=POSITIONS, title=evil)
    text = report_html(report)
    assert "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;.wav" in text  # the unplaced list
    outline = _Outline()
    outline.feed(text)
    assert evil in "".join(outline.text)
