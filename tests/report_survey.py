"""A synthetic multi-night, multi-site survey for the survey report's tests, in memory or as a
review store, with its recordings placed at known minutes from sunset and sunrise.

Sites and recordings (the survey's folders under ``root``):

* ``north``: GUANO position 52.0 N 4.5 E, UTC+2. Night 2024-06-01: N1 at sunset + 25 min
  (pipistrelle at 0.5 s, confirmed by Ann; noctule at 2.5 s, rejected by Bob), N2 at sunset
  + 95 min (pipistrelle at 0 s, relabelled to soprano by Ann). Night 2024-06-02: N3 at sunrise
  − 40 min (pipistrelle at 1.0 s, unreviewed), N4 at sunset − 7 min (noctule at 0 s,
  unreviewed).
* ``south``: no GUANO position (the tests give 51.0 N 5.0 E for the folder), UTC+2. S1 at
  sunset + 47 min on 2024-06-01 (serotine at 1.5 s, confirmed, no reviewer name), S2 at sunset
  + 130 min on 2024-06-03 (noctule at 0.5 s, confirmed by Ann).
* ``east``: no position at all: E1 at 23:00+02:00 on 2024-06-02 (pipistrelle at 0 s).
* ``west``: GUANO position 52.1 N 4.4 E but a timestamp without a UTC offset: W1 at 23:30
  on 2024-06-02 (pipistrelle at 0 s).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from bsgbat_gui.core.analysis.analyse import RecordingAnalysis, windows_for
from bsgbat_gui.core.analysis.thresholds import ThresholdSettings, preset_json
from bsgbat_gui.core.audio.metadata import RecordingMetadata
from bsgbat_gui.core.audio.recording import RecordingInfo
from bsgbat_gui.core.evaluation.night_activity import sun_times
from bsgbat_gui.core.review.decisions import Decision
from bsgbat_gui.core.review.store import ReviewStore
from bsgbat_gui.core.review.survey import Survey, SurveyRecording
from bsgbat_gui.core.species import SPECIES

LABELS = tuple(s.scientific_name for s in SPECIES)
PIPPIP = "Pipistrellus pipistrellus"
PIPPYG = "Pipistrellus pygmaeus"
NYCNOC = "Nyctalus noctula"
EPTSER = "Eptesicus serotinus"
MODEL_SET_ID = "0123456789abcdef" * 4
TZ = dt.timezone(dt.timedelta(hours=2))
NORTH = (52.0, 4.5)
SOUTH = (51.0, 5.0)
WEST = (52.1, 4.4)
SETTINGS = ThresholdSettings({NYCNOC: 0.55}, "mean")
DECIDED_AT = "2024-06-10T09:00:00+02:00"


def synthetic_analysis(
    path: Path,
    seconds: float,
    peaks: dict[str, list[tuple[int, float]]],
    *,
    timestamp: dt.datetime | None = None,
    position: tuple[float, float] | None = None,
) -> RecordingAnalysis:
    """An analysis whose probabilities are 0.01 except ``peaks`` {label: [(segment, p)]}; the
    six models agree."""
    rate = 384_000
    info = RecordingInfo(
        path=path, header_rate_hz=rate, channels=1, header_frames=round(seconds * rate),
        format="WAV", subtype="PCM_16", time_expansion=1.0, time_expansion_source="none",
        metadata=RecordingMetadata(
            timestamp=timestamp,
            latitude=position[0] if position else None,
            longitude=position[1] if position else None,
        ),
    )  # fmt: skip
    windows = windows_for(info)
    p = np.full((len(windows), len(LABELS)), 0.01, np.float64)
    for label, values in peaks.items():
        for segment, value in values:
            p[segment, LABELS.index(label)] = value
    logits = np.log(p / (1 - p)).astype(np.float32)
    return RecordingAnalysis(
        info, tuple(windows), np.repeat(logits[None], 6, axis=0), LABELS, tuple("abcdef")
    )


def _sunset(position: tuple[float, float], night: dt.date) -> dt.datetime:
    moment = sun_times(*position, night, TZ).sunset
    assert moment is not None
    return moment.replace(microsecond=0)


def _sunrise(position: tuple[float, float], night: dt.date) -> dt.datetime:
    moment = sun_times(*position, night, TZ).sunrise
    assert moment is not None
    return moment.replace(microsecond=0)


def report_analyses(root: Path) -> list[RecordingAnalysis]:
    """The survey's analyses (recordings under ``root``)."""
    june = dt.date(2024, 6, 1)
    day2, day3 = june + dt.timedelta(days=1), june + dt.timedelta(days=2)
    minutes = dt.timedelta(minutes=1)
    return [
        synthetic_analysis(
            root / "north" / "N1.wav", 4.0, {PIPPIP: [(1, 0.9)], NYCNOC: [(5, 0.7)]},
            timestamp=_sunset(NORTH, june) + 25 * minutes, position=NORTH,
        ),
        synthetic_analysis(
            root / "north" / "N2.wav", 2.0, {PIPPIP: [(0, 0.95)]},
            timestamp=_sunset(NORTH, june) + 95 * minutes, position=NORTH,
        ),
        synthetic_analysis(
            root / "north" / "N3.wav", 2.0, {PIPPIP: [(2, 0.8)]},
            timestamp=_sunrise(NORTH, day2) - 40 * minutes, position=NORTH,
        ),
        synthetic_analysis(
            root / "north" / "N4.wav", 2.0, {NYCNOC: [(0, 0.85)]},
            timestamp=_sunset(NORTH, day2) - 7 * minutes, position=NORTH,
        ),
        synthetic_analysis(
            root / "south" / "S1.wav", 3.0, {EPTSER: [(3, 0.6)]},
            timestamp=_sunset(SOUTH, june) + 47 * minutes,
        ),
        synthetic_analysis(
            root / "south" / "S2.wav", 2.0, {NYCNOC: [(1, 0.9)]},
            timestamp=_sunset(SOUTH, day3) + 130 * minutes,
        ),
        synthetic_analysis(
            root / "east" / "E1.wav", 2.0, {PIPPIP: [(0, 0.7)]},
            timestamp=dt.datetime(2024, 6, 2, 23, 0, tzinfo=TZ),
        ),
        synthetic_analysis(
            root / "west" / "W1.wav", 2.0, {PIPPIP: [(0, 0.75)]},
            timestamp=dt.datetime(2024, 6, 2, 23, 30), position=WEST,
        ),
    ]  # fmt: skip


def report_decisions(root: Path) -> tuple[Decision, ...]:
    """The survey's decisions (spans are window bounds: segment k starts at k × 0.5 s)."""
    return (
        Decision(root / "north" / "N1.wav", PIPPIP, 0.5, 1.524, "confirmed", PIPPIP, "",
                 "Ann", DECIDED_AT),
        Decision(root / "north" / "N1.wav", NYCNOC, 2.5, 3.524, "rejected", "", "<b>noise</b>",
                 "Bob", DECIDED_AT),
        Decision(root / "north" / "N2.wav", PIPPIP, 0.0, 1.024, "relabelled", PIPPYG, "", "Ann",
                 DECIDED_AT),
        Decision(root / "south" / "S1.wav", EPTSER, 1.5, 2.524, "confirmed", EPTSER, "", "",
                 DECIDED_AT),
        Decision(root / "south" / "S2.wav", NYCNOC, 0.5, 1.524, "confirmed", NYCNOC, "", "Ann",
                 DECIDED_AT),
    )  # fmt: skip


def report_survey(root: Path = Path("/survey")) -> Survey:
    """The survey in memory."""
    return Survey.of(
        [SurveyRecording(a, MODEL_SET_ID) for a in report_analyses(root)],
        SETTINGS,
        report_decisions(root),
    )


def report_store(root: Path) -> Path:
    """The survey as a review store at ``root/bsgbat-review.sqlite`` (recordings: empty files,
    the store keeps their analyses and metadata)."""
    store_path = root / "bsgbat-review.sqlite"
    with ReviewStore.open(store_path) as store:
        for analysis in report_analyses(root):
            analysis.info.path.parent.mkdir(parents=True, exist_ok=True)
            analysis.info.path.write_bytes(b"RIFF")
            store.save_analysis(analysis, MODEL_SET_ID, "0" * 64)
        for decision in report_decisions(root):
            store.put_decision(decision)
        store.set_meta("thresholds", preset_json(SETTINGS, LABELS))
    return store_path
