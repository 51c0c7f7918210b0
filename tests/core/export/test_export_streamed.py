"""``bsgbat-gui export`` of a row format (CSV, BriteKit) reads the store one recording at a time
(a season's export must not hold the season) and writes exactly what the whole-survey export
writes."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest
from cli_runner import run_cli

from bsgbat_gui.core.export.formats import export_streamed, export_survey
from bsgbat_gui.core.review.decisions import Decision, RecordingReview
from bsgbat_gui.core.review.store import ReviewStore
from bsgbat_gui.core.review.survey import load_survey, recording_rows, stream_survey

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def reviewed_store(analysed_store: Path, tmp_path: Path) -> Path:
    """The analysed store with decisions of every kind and a recording marked reviewed."""
    store_path = tmp_path / "survey" / "review.sqlite"
    store_path.parent.mkdir()
    shutil.copy(analysed_store, store_path)
    with ReviewStore.open(store_path) as store:
        survey, _ = load_survey(store)
        rows = [r for rec in recording_rows(survey) for r in rec.rows]
        assert len(rows) >= 6
        statuses = ("confirmed", "rejected", "relabelled")
        for k, row in enumerate(rows[::2][:9]):
            status = statuses[k % 3]
            final = "Myotis daubentonii" if status == "relabelled" else ""
            store.put_decision(
                Decision(row.path, row.species_auto, row.start_s, row.end_s, status, final,
                         note=f"note {k}", reviewer="tester", decided_at="2024-05-01T00:00+00:00")
            )  # fmt: skip
        store.set_recording_review(rows[0].path, RecordingReview(reviewed=True))
    return store_path


@pytest.mark.parametrize(
    ("fmt", "scope", "which"),
    [("csv", "verified", "all"), ("csv", "detections", "all"), ("csv", "all", "reviewed"),
     ("britekit", "verified", "all")],
)  # fmt: skip
def test_streamed_export_writes_what_the_whole_survey_export_writes(
    reviewed_store: Path, tmp_path: Path, fmt: str, scope: str, which: str
) -> None:
    streamed = tmp_path / f"streamed.{fmt}.csv"
    rc, out, err = run_cli(
        ["export", str(reviewed_store), "--out", str(streamed), "--format", fmt,
         "--scope", scope, "--recordings", which]
    )  # fmt: skip
    assert rc == 0, err
    whole = tmp_path / f"whole.{fmt}.csv"
    with ReviewStore.open(reviewed_store, exclusive=False) as store:
        survey, _ = load_survey(store)
        result = export_survey(fmt, whole, recording_rows(survey), scope=scope, which=which)
    assert streamed.read_bytes() == whole.read_bytes()
    assert f"wrote {result.rows} rows" in out
    assert result.rows > 0


def test_the_stream_gives_the_recordings_in_the_surveys_order_one_at_a_time(
    reviewed_store: Path, tmp_path: Path
) -> None:
    with ReviewStore.open(reviewed_store, exclusive=False) as store:
        survey, problems = load_survey(store)
        expected = recording_rows(survey)
        stream = stream_survey(store)
        assert stream.survey.labels == survey.labels
        assert stream.survey.decisions == survey.decisions
        produced = stream.recording_rows()
        first = next(produced)  # produced on demand, not all read first
        rest = list(produced)
    assert [r.recording.path for r in [first, *rest]] == [r.recording.path for r in expected]
    assert [r.rows for r in [first, *rest]] == [r.rows for r in expected]
    assert stream.problems == problems == []
    with ReviewStore.open(reviewed_store, exclusive=False) as store:
        decided = list(stream_survey(store).recording_rows(decided_only=True))
    decided_paths = {d.path for d in survey.decisions}
    assert [r.recording.path for r in decided] == [
        r.recording.path for r in expected if r.recording.path in decided_paths
    ]
    assert 0 < len(decided) < len(expected)


def test_a_streamed_export_refuses_what_the_whole_export_refuses(
    reviewed_store: Path, tmp_path: Path
) -> None:
    existing = tmp_path / "there.csv"
    existing.write_text("keep me")
    with ReviewStore.open(reviewed_store, exclusive=False) as store:
        stream = stream_survey(store)
        with pytest.raises(Exception, match="already exists"):
            export_streamed("csv", existing, stream.recording_rows())
        with pytest.raises(ValueError, match="not written row by row"):
            export_streamed("raven", tmp_path / "r", stream.recording_rows())
    assert existing.read_text() == "keep me"
