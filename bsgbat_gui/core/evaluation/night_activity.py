"""Bat activity through the night, by site: what the survey report's figures show.

Every number here is computed offline from what the recordings' metadata says: the GUANO
``Loc Position`` (latitude, longitude) and the timestamp of each recording, plus the offset of a
detection in it. Sunset and sunrise come from `astral <https://astral.readthedocs.io>`_ (the
NOAA solar equations, the sun's upper limb at the horizon with standard refraction).

* **Sites**: recordings with a GUANO position are grouped by that position (rounded to
  :data:`SITE_POSITION_DECIMALS` decimals, about 100 m: a recorder's GPS wanders less than
  that); recordings without one by the folder they sit in. A caller can give a position per
  folder (``--site-position FOLDER=LAT,LON``); it places the recordings of that folder that have
  no GUANO position (a recording's own position wins). Recordings left without a position are
  listed, never guessed.
* **Nights** run noon to noon in the recorder's local time and are named by the date of their
  evening (:func:`~bsgbat_gui.core.review.survey.night_of`).
* **Relative times** need a position *and* a timestamp with its UTC offset: a timestamp without
  an offset (a recorder clock in an unknown zone) could be an hour or two off the sun, so such
  recordings are listed too. A night's sunset is that of its evening's date, its sunrise that of
  the next date, both at the site and in the timestamp's zone.
* **Passes**: a pass is one detection event. *Detected* passes are the events at the current
  thresholds that no reviewer rejected, counted under the model's species; *verified* passes are
  those confirmed or relabelled, counted under the reviewer's species.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from astral import Observer
from astral.sun import sunrise, sunset

from bsgbat_gui.core.review.decisions import STATUS_CONFIRMED, STATUS_REJECTED, STATUS_RELABELLED
from bsgbat_gui.core.review.survey import NIGHT_UNKNOWN, night_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from bsgbat_gui.core.review.survey import DetectionRow, RecordingRows

BIN_MINUTES = 10
SITE_POSITION_DECIMALS = 3
SOURCE_GUANO = "GUANO"
SOURCE_GIVEN = "given"
SOURCE_NONE = "none"
REFERENCES = ("sunset", "sunrise")

Position = tuple[float, float]  # latitude, longitude in decimal degrees (WGS84)


class PositionError(ValueError):
    """A ``FOLDER=LAT,LON`` that is not one."""


def parse_site_position(text: str) -> tuple[str, Position]:
    """``FOLDER=LAT,LON`` as ``(folder, (lat, lon))``. Raises :class:`PositionError`."""
    folder, sep, position = text.rpartition("=")
    parts = position.split(",")
    if not sep or not folder or len(parts) != 2:
        raise PositionError(f"{text!r}: expected FOLDER=LAT,LON (decimal degrees)")
    try:
        latitude, longitude = float(parts[0]), float(parts[1])
    except ValueError:
        raise PositionError(f"{text!r}: latitude and longitude must be numbers") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise PositionError(f"{text!r}: latitude within ±90 and longitude within ±180")
    return folder, (latitude, longitude)


# -- the sun --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SunTimes:
    """A night's sunset (on its evening's date) and sunrise (the next date); None where the sun
    does not set or rise that day (polar day or night).
    """

    night: dt.date
    sunset: dt.datetime | None
    sunrise: dt.datetime | None


def sun_times(
    latitude: float, longitude: float, night: dt.date, tzinfo: dt.tzinfo = dt.timezone.utc
) -> SunTimes:
    """Sunset on ``night`` and sunrise on the next date at a place, in ``tzinfo`` (whose local
    dates these are), from astral.
    """
    observer = Observer(latitude=latitude, longitude=longitude)
    try:
        set_at: dt.datetime | None = sunset(observer, night, tzinfo=tzinfo)
    except ValueError:  # the sun does not set (or never rises) that day
        set_at = None
    try:
        rise_at: dt.datetime | None = sunrise(observer, night + dt.timedelta(days=1), tzinfo=tzinfo)
    except ValueError:
        rise_at = None
    return SunTimes(night, set_at, rise_at)


# -- sites ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A group of recordings at one place, and what was found there."""

    name: str
    latitude: float | None
    longitude: float | None
    position_source: str  # SOURCE_GUANO, SOURCE_GIVEN or SOURCE_NONE
    folders: tuple[str, ...]
    recordings: int
    nights: tuple[str, ...]  # night dates ("unknown" last)
    detections: int  # detected passes (not rejected)
    verified: int
    species_detected: tuple[str, ...]
    species_verified: tuple[str, ...]


@dataclass(frozen=True)
class _Placement:
    site: tuple[str, ...]  # the site's key
    position: Position | None
    source: str
    folder: Path


def _folder_matches(folder: Path, given: str) -> bool:
    """Whether ``given`` names ``folder``: the same absolute path, or its last parts."""
    wanted = PurePath(given)
    if wanted.is_absolute():
        return Path(os.path.normpath(wanted)) == folder
    parts = [p for p in wanted.parts if p not in ("", ".")]
    return bool(parts) and list(folder.parts[-len(parts) :]) == parts


def _place(recording: RecordingRows, positions: Mapping[str, Position]) -> _Placement:
    info = recording.recording.analysis.info
    folder = info.path.parent
    latitude, longitude = info.metadata.latitude, info.metadata.longitude
    if latitude is not None and longitude is not None:
        key = (
            "position",
            f"{latitude:.{SITE_POSITION_DECIMALS}f}",
            f"{longitude:.{SITE_POSITION_DECIMALS}f}",
        )
        return _Placement(key, (latitude, longitude), SOURCE_GUANO, folder)
    for given, position in positions.items():
        if _folder_matches(folder, given):
            return _Placement(("folder", str(folder)), position, SOURCE_GIVEN, folder)
    return _Placement(("folder", str(folder)), None, SOURCE_NONE, folder)


def _folder_names(folders: Iterable[Path]) -> dict[Path, str]:
    """How each folder is named in the report: relative to the folders' common parent (its own
    name when there is one folder).
    """
    unique = sorted(set(folders))
    if len(unique) <= 1:
        return {f: (f.name or str(f)) for f in unique}
    common = Path(os.path.commonpath([str(f) for f in unique]))
    return {f: (str(f.relative_to(common)) if f != common else (f.name or str(f))) for f in unique}


# -- the activity numbers -------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityBin:
    """Passes of one species in one bin of minutes after sunset (or before sunrise)."""

    species: str
    reference: str  # "sunset": minutes after sunset; "sunrise": minutes before sunrise
    minute: int  # the bin's start, a multiple of the bin width (negative: before sunset...)
    detections: int
    verified: int


@dataclass(frozen=True)
class NightCount:
    """Passes of one species on one night at one site."""

    site: str
    night: str
    species: str
    detections: int
    verified: int


@dataclass(frozen=True)
class Emergence:
    """The first and last pass of a species on a night at a site, in minutes after sunset
    (None: no such pass). The night's sunset and sunrise are given for reference.
    """

    site: str
    night: str
    species: str
    sunset: str  # ISO 8601, the timestamps' zone
    sunrise: str
    first_detected_min: float | None
    last_detected_min: float | None
    first_verified_min: float | None
    last_verified_min: float | None


@dataclass(frozen=True)
class Unplaced:
    """Recordings whose passes cannot be placed relative to the sun, and why."""

    reason: str
    folder: str
    recordings: tuple[str, ...]  # file names


@dataclass(frozen=True)
class NightActivity:
    """Everything the report's activity figures and tables show."""

    bin_minutes: int
    sites: tuple[Site, ...]
    activity: tuple[ActivityBin, ...]
    nights: tuple[NightCount, ...]
    emergence: tuple[Emergence, ...]
    unplaced: tuple[Unplaced, ...]
    placed_passes: int = 0  # detected passes placed relative to the sun
    unplaced_passes: int = 0
    sun: Mapping[tuple[str, str], SunTimes] = field(default_factory=dict)  # (site, night)


def detected(row: DetectionRow) -> bool:
    """A detected pass: an event at the thresholds that no reviewer rejected."""
    return row.is_event and row.status != STATUS_REJECTED


def verified(row: DetectionRow) -> bool:
    """A verified pass: confirmed or relabelled (counted under the final species)."""
    return row.status in (STATUS_CONFIRMED, STATUS_RELABELLED) and bool(row.species_final)


def _bin(minutes: float, width: int) -> int:
    return math.floor(minutes / width) * width


def night_activity(
    recordings: Sequence[RecordingRows],
    positions: Mapping[str, Position] | None = None,
    *,
    bin_minutes: int = BIN_MINUTES,
) -> NightActivity:
    """Sites, passes per species per bin relative to sunset and sunrise, per species × night and
    site, and emergence, for the recordings' rows (all statuses, as
    :func:`~bsgbat_gui.core.review.survey.recording_rows` gives them). ``positions``: a position
    per folder (an absolute path, or a folder's last parts such as ``north``) for recordings
    without a GUANO one.
    """
    positions = positions or {}
    placements = [_place(rec, positions) for rec in recordings]
    names = _site_names(placements)
    folder_names = _folder_names(p.folder for p in placements)

    activity: dict[tuple[str, str, int], list[int]] = {}
    per_night: dict[tuple[str, str, str], list[int]] = {}
    first_last: dict[tuple[str, str, str], list[float | None]] = {}
    sun: dict[tuple[str, str], SunTimes] = {}
    unplaced: dict[tuple[str, str], list[str]] = {}
    site_rows: dict[tuple[str, ...], list[RecordingRows]] = {}
    placed_passes = unplaced_passes = 0

    for rec, place in zip(recordings, placements, strict=True):
        site = names[place.site]
        site_rows.setdefault(place.site, []).append(rec)
        passes = [r for r in rec.rows if detected(r) or verified(r)]
        start = (
            passes[0].absolute_start if passes else rec.recording.analysis.info.metadata.timestamp
        )
        reason = ""
        if start is None:
            reason = "no timestamp"
        elif place.position is None:
            reason = "no position (set one for the folder)"
        elif start.tzinfo is None or start.utcoffset() is None:
            reason = "timestamp without a UTC offset"
        for row in passes:
            moment = row.absolute_start
            night = night_of(moment)
            for species, is_detected, is_verified in _pass_species(row):
                counts = per_night.setdefault((site, night, species), [0, 0])
                counts[0] += is_detected
                counts[1] += is_verified
            if reason or moment is None or place.position is None:
                unplaced_passes += detected(row)
                continue
            times = sun.get((site, night))
            if times is None:
                tz = moment.tzinfo or dt.timezone.utc
                times = sun_times(*place.position, dt.date.fromisoformat(night), tz)
                sun[(site, night)] = times
            if times.sunset is None or times.sunrise is None:
                unplaced_passes += detected(row)
                reason = reason or "the sun does not set or rise that night"
                continue
            placed_passes += detected(row)
            after_sunset = (moment - times.sunset).total_seconds() / 60
            before_sunrise = (times.sunrise - moment).total_seconds() / 60
            for species, is_detected, is_verified in _pass_species(row):
                for reference, minutes in (("sunset", after_sunset), ("sunrise", before_sunrise)):
                    counts = activity.setdefault(
                        (species, reference, _bin(minutes, bin_minutes)), [0, 0]
                    )
                    counts[0] += is_detected
                    counts[1] += is_verified
                extremes = first_last.setdefault((site, night, species), [None] * 4)
                for offset, counted in ((0, is_detected), (2, is_verified)):
                    if counted:
                        _widen(extremes, offset, after_sunset)
        if reason:
            unplaced.setdefault((reason, folder_names[place.folder]), []).append(
                rec.recording.path.name
            )

    emergence = []
    for (site, night, species), values in sorted(first_last.items()):
        times = sun[(site, night)]
        assert times.sunset is not None
        assert times.sunrise is not None
        emergence.append(
            Emergence(
                site,
                night,
                species,
                times.sunset.isoformat(timespec="seconds"),
                times.sunrise.isoformat(timespec="seconds"),
                *_rounded(values),
            )
        )
    return NightActivity(
        bin_minutes=bin_minutes,
        sites=tuple(
            _site(names[key], rows, placements_of, folder_names)
            for key, rows in sorted(site_rows.items(), key=lambda kv: names[kv[0]])
            for placements_of in [[p for p in placements if p.site == key]]
        ),
        activity=tuple(
            ActivityBin(species, reference, minute, counts[0], counts[1])
            for (species, reference, minute), counts in sorted(
                activity.items(), key=lambda kv: (kv[0][1] != "sunset", kv[0][0], kv[0][2])
            )
        ),
        nights=tuple(
            NightCount(site, night, species, counts[0], counts[1])
            for (site, night, species), counts in sorted(
                per_night.items(), key=lambda kv: (kv[0][0], kv[0][1] == NIGHT_UNKNOWN, kv[0][1:])
            )
        ),
        emergence=tuple(emergence),
        unplaced=tuple(
            Unplaced(reason, folder, tuple(sorted(files)))
            for (reason, folder), files in sorted(unplaced.items())
        ),
        placed_passes=placed_passes,
        unplaced_passes=unplaced_passes,
        sun=sun,
    )


def _widen(extremes: list[float | None], offset: int, minutes: float) -> None:
    """Take ``minutes`` into the (first, last) pair at ``extremes[offset:offset + 2]``."""
    first, last = extremes[offset], extremes[offset + 1]
    extremes[offset] = minutes if first is None else min(first, minutes)
    extremes[offset + 1] = minutes if last is None else max(last, minutes)


def _rounded(values: list[float | None]) -> tuple[float | None, ...]:
    return tuple(None if v is None else round(v, 2) for v in values)


def _pass_species(row: DetectionRow) -> list[tuple[str, int, int]]:
    """(species, detected?, verified?) for a row: one entry, or two when relabelled."""
    is_detected, is_verified = detected(row), verified(row)
    if is_verified and row.species_final != row.species_auto:
        out = [(row.species_final, 0, 1)]
        if is_detected:
            out.append((row.species_auto, 1, 0))
        return out
    return [
        (row.species_auto if is_detected else row.species_final, int(is_detected), int(is_verified))
    ]


def _site_names(placements: Sequence[_Placement]) -> dict[tuple[str, ...], str]:
    """A readable, unique name per site key: its folder(s), or its position when its recordings
    sit in folders shared with other sites.
    """
    folders_of: dict[tuple[str, ...], set[Path]] = {}
    for p in placements:
        folders_of.setdefault(p.site, set()).add(p.folder)
    folder_names = _folder_names(p.folder for p in placements)
    names: dict[tuple[str, ...], str] = {}
    for key, folders in folders_of.items():
        name = " + ".join(sorted(folder_names[f] for f in folders))
        if key[0] == "position":
            name = f"{name} ({key[1]}, {key[2]})"
        names[key] = name
    return names


def _site(
    name: str,
    rows: Sequence[RecordingRows],
    placements: Sequence[_Placement],
    folder_names: Mapping[Path, str],
) -> Site:
    positions = [p.position for p in placements if p.position is not None]
    latitude = longitude = None
    if positions:
        latitude = round(sum(p[0] for p in positions) / len(positions), 6)
        longitude = round(sum(p[1] for p in positions) / len(positions), 6)
    sources = {p.source for p in placements}
    source = next((s for s in (SOURCE_GUANO, SOURCE_GIVEN) if s in sources), SOURCE_NONE)
    nights: set[str] = set()
    species_detected: set[str] = set()
    species_verified: set[str] = set()
    n_detected = n_verified = 0
    for rec in rows:
        start = rec.recording.analysis.info.metadata.timestamp
        if not rec.rows:
            nights.add(night_of(start))
        for row in rec.rows:
            if detected(row):
                n_detected += 1
                species_detected.add(row.species_auto)
                nights.add(night_of(row.absolute_start))
            if verified(row):
                n_verified += 1
                species_verified.add(row.species_final)
                nights.add(night_of(row.absolute_start))
    return Site(
        name=name,
        latitude=latitude,
        longitude=longitude,
        position_source=source,
        folders=tuple(sorted({folder_names[p.folder] for p in placements})),
        recordings=len(rows),
        nights=tuple(sorted(nights, key=lambda n: (n == NIGHT_UNKNOWN, n))),
        detections=n_detected,
        verified=n_verified,
        species_detected=tuple(sorted(species_detected)),
        species_verified=tuple(sorted(species_verified)),
    )
