"""Every export read back by the tools people use — pandas, crowsetta (Raven, Audacity), BriteKit's
own format rules, our evaluation — with the same rows; the detections CSV round trip is a no-op
for any text a user can type; files get the user's modes; scopes and folders said plainly."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import stat
from pathlib import Path

import crowsetta
import pandas as pd
import pytest
from cli_runner import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_export import (
    LABELS,
    MODEL_SET_ID,
    NYCNOC,
    PIPPIP,
    golden_survey,
    synthetic_analysis,
)

from bsgbat_gui.core.csv_text import CsvWriter, inert_text, plain_text
from bsgbat_gui.core.evaluation.annotations import read_annotations
from bsgbat_gui.core.export.formats import (
    EXPORT_CSV_COLUMNS,
    ExportError,
    detection_cells,
    export_survey,
)
from bsgbat_gui.core.files import AtomicTextFile, new_file_mode
from bsgbat_gui.core.review.decision_import import plan_import
from bsgbat_gui.core.review.decisions import Decision, RecordingReview
from bsgbat_gui.core.review.survey import Survey, SurveyRecording, recording_rows, select_rows

ODD_NAMES = ("+1.wav", "=x.wav", 'a, b "quoted".wav', "-minus @at.wav", "'apostrophe.wav")


def odd_survey() -> Survey:
    """The golden survey (time-expanded, GUANO timestamps and positions, an =HYPERLINK name)
    plus recordings whose names spreadsheets and CSV readers trip over, each with a confirmed
    detection."""
    base = golden_survey()
    tz = dt.timezone(dt.timedelta(hours=1))
    extra, decisions = [], list(base.decisions)
    for i, name in enumerate(ODD_NAMES):
        path = Path("/survey/odd") / name
        extra.append(SurveyRecording(
            synthetic_analysis(path, 2.0, {PIPPIP: [(0, 0.9)]},
                               timestamp=dt.datetime(2024, 6, 3, 23, i, tzinfo=tz),
                               position=(51.5, -0.1)),
            MODEL_SET_ID, RecordingReview(reviewed=True),
        ))  # fmt: skip
        decisions.append(Decision(path, LABELS[PIPPIP], 0.0, 1.024, "confirmed", LABELS[PIPPIP],
                                  "heard, =clear", "Ann", "2024-06-10T09:00:00+02:00",
                                  id=100 + i))  # fmt: skip
    return Survey.of([*base.recordings, *extra], base.settings, decisions)


def _frame(path: Path, **kwargs: object) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, **kwargs)


def test_pandas_reads_the_csv_with_the_same_rows(tmp_path: Path) -> None:
    recordings = recording_rows(odd_survey())
    rows = select_rows(recordings, "all")
    export_survey("csv", tmp_path / "d.csv", recordings, scope="all")
    frame = _frame(tmp_path / "d.csv")
    assert tuple(frame.columns) == EXPORT_CSV_COLUMNS
    expected = [detection_cells(r) for r in rows]
    assert frame.to_numpy().tolist() == expected
    # Undoing the spreadsheet protection gives the names back exactly.
    assert {plain_text(f) for f in frame["file"]} >= set(ODD_NAMES)


def test_britekit_kaleidoscope_and_summary_read_back_by_pandas(tmp_path: Path) -> None:
    recordings = recording_rows(odd_survey())
    verified = select_rows(recordings, "verified")
    export_survey("britekit", tmp_path / "b.csv", recordings)
    britekit = _frame(tmp_path / "b.csv")
    assert britekit.to_numpy().tolist() == [
        [r.path.stem, r.species_final, f"{r.start_s * r.time_expansion:.3f}",
         f"{r.end_s * r.time_expansion:.3f}"]
        for r in verified
    ]  # fmt: skip
    assert {Path(n).stem for n in ODD_NAMES} <= set(britekit["recording"])  # verbatim
    # Our own evaluation, reading our own BriteKit export, keeps every recording.
    annotations = read_annotations([tmp_path / "b.csv"], LABELS)
    assert annotations.problems == ()
    assert {Path(n).stem for n in ODD_NAMES} <= annotations.recordings

    export_survey("kaleidoscope", tmp_path / "id.csv", recordings)
    ids = _frame(tmp_path / "id.csv")
    assert len(ids) == len(recordings)
    assert set(ODD_NAMES) <= set(ids["IN FILE"])
    odd = ids[ids["IN FILE"].isin(ODD_NAMES)]
    assert set(odd["AUTO ID*"]) == {"PIPPIP"}
    assert set(odd["MANUAL ID"]) == {"PIPPIP"}
    assert set(odd["DATE-12"]) == {"2024-06-03"}
    assert set(odd["CHANNEL"]) == {"0"}

    export_survey("summary", tmp_path / "s.csv", recordings)
    summary = _frame(tmp_path / "s.csv")
    survey_rows = summary[summary["night"] == "all"]
    confirmed = dict(zip(survey_rows["species"], survey_rows["confirmed"].astype(int), strict=True))
    assert confirmed == {LABELS[PIPPIP]: 2 + len(ODD_NAMES), LABELS[NYCNOC]: 1}


def test_crowsetta_reads_the_raven_and_audacity_files(tmp_path: Path) -> None:
    recordings = recording_rows(odd_survey())
    rows = select_rows(recordings, "all")
    raven = export_survey("raven", tmp_path / "raven", recordings, scope="all")
    audacity = export_survey("audacity", tmp_path / "aud", recordings, scope="all")
    by_stem: dict[str, list] = {}
    for row in rows:
        by_stem.setdefault(row.path.stem, []).append(row)
    assert len(raven.files) == len(by_stem) == len(audacity.files)
    for table in raven.files:
        stem = table.name.removesuffix(".Table.1.selections.txt")
        expected = by_stem[stem]
        annot = crowsetta.formats.bbox.Raven.from_file(table)  # keyed on "Annotation"
        df = annot.df
        assert list(df["annotation"]) == [r.species_final or r.species_auto for r in expected]
        te = expected[0].time_expansion
        assert list(df["begin_time_s"]) == pytest.approx([r.start_s * te for r in expected])
        assert list(df["end_time_s"]) == pytest.approx([r.end_s * te for r in expected])
        assert list(df["high_freq_hz"]) == pytest.approx([150_000 / te] * len(expected))
    for labels in audacity.files:
        expected = by_stem[labels.stem]
        seq = crowsetta.formats.seq.AudSeq.from_file(labels).to_seq()
        te = expected[0].time_expansion
        assert list(seq.onsets_s) == pytest.approx([r.start_s * te for r in expected])
        assert list(seq.offsets_s) == pytest.approx([r.end_s * te for r in expected])
        assert [s.label for s in seq.segments] == [
            f"{r.species_final or r.species_auto} ({r.status})" for r in expected
        ]


# Any text a user can type: every printable and control character but NUL and lone surrogates
# (which no file system, keyboard or UTF-8 file holds), spreadsheet triggers and quotes weighted.
USER_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(["\r", "\n", "\t", ",", '"', "'", "=", "+", "-", "@", " "]),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    ),
    max_size=30,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    note=USER_TEXT,
    name=USER_TEXT.filter(lambda s: "/" not in s and s.strip() not in ("", ".", "..")),
)
def test_csv_round_trip_is_a_no_op_for_any_text(note: str, name: str, tmp_path: Path) -> None:
    """Export the detections CSV and import it unedited: nothing changes, whatever the note
    and the recording's name (CR, LF, quotes, commas, tabs, leading = + - @ ')."""
    path = Path("/survey") / (name + ".wav")
    analysis = synthetic_analysis(path, 2.0, {PIPPIP: [(0, 0.9)]})
    decision = Decision(path, LABELS[PIPPIP], 0.0, 1.024, "confirmed", LABELS[PIPPIP], note,
                        "Ann", "2024-06-10T09:00:00+02:00", id=1)  # fmt: skip
    survey = Survey.of([SurveyRecording(analysis, MODEL_SET_ID)], golden_survey().settings,
                       [decision])  # fmt: skip
    recordings = recording_rows(survey)
    out = tmp_path / "round-trip.csv"
    export_survey("csv", out, recordings, scope="all", overwrite=True)
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1  # no cell split the row
    assert plain_text(rows[0]["note"]) == note
    assert plain_text(rows[0]["path"]) == str(path)
    plan = plan_import(out, recordings, survey.decisions, survey.labels)
    assert plan.problems == []
    assert plan.changes == []
    assert plan.unchanged == 1


@given(st.lists(USER_TEXT, min_size=1, max_size=5))
def test_csv_writer_quotes_every_line_break(cells: list[str]) -> None:
    out = io.StringIO()
    CsvWriter(out).writerow(cells)
    assert out.getvalue().endswith("\n")
    assert next(csv.reader(io.StringIO(out.getvalue(), newline=""))) == cells
    assert plain_text(inert_text(cells[0])) == cells[0]


def test_a_new_export_gets_the_umask_mode_and_a_replaced_one_keeps_its_mode(
    tmp_path: Path,
) -> None:
    old_mask = os.umask(0o027)
    try:
        assert new_file_mode() == 0o640
        with AtomicTextFile(tmp_path / "new.csv") as f:
            f.write("x\n")
        assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640
        kept = tmp_path / "kept.csv"
        kept.write_text("old\n")
        kept.chmod(0o604)
        export_survey("csv", kept, recording_rows(golden_survey()), overwrite=True)
        assert stat.S_IMODE(kept.stat().st_mode) == 0o604
    finally:
        os.umask(old_mask)


def test_a_scope_a_format_cannot_write_is_an_error_and_counts_are_what_was_written(
    tmp_path: Path,
) -> None:
    recordings = recording_rows(golden_survey())
    with pytest.raises(ExportError, match="verified detections only"):
        export_survey("britekit", tmp_path / "b.csv", recordings, scope="all")
    with pytest.raises(ExportError, match="does not select detections"):
        export_survey("kaleidoscope", tmp_path / "id.csv", recordings, scope="verified")
    assert list(tmp_path.iterdir()) == []
    result = export_survey("britekit", tmp_path / "b.csv", recordings)
    assert result.rows == len(_frame(tmp_path / "b.csv")) == 3


def test_export_command_refuses_missing_folders_and_unwritable_scopes(
    analysed_store: Path, tmp_path: Path
) -> None:
    rc, _, err = run_cli(["export", str(analysed_store), "--out", str(tmp_path / "a/b/c.csv")])
    assert rc == 2
    assert err == f"error: {tmp_path / 'a/b'}: no such folder (create it first)\n"
    assert not (tmp_path / "a").exists()
    rc, _, err = run_cli(["export", str(analysed_store), "--out", str(tmp_path / "b.csv"),
                          "--format", "britekit", "--scope", "all"])  # fmt: skip
    assert rc == 2
    assert "verified detections only" in err
    assert not (tmp_path / "b.csv").exists()
    rc, out, err = run_cli(["export", str(analysed_store), "--out", str(tmp_path / "b.csv"),
                            "--format", "britekit"])  # fmt: skip
    assert rc == 0, err
    assert out == f"wrote {len(_frame(tmp_path / 'b.csv'))} rows to {tmp_path / 'b.csv'}\n"
    rc, _, err = run_cli(["export", str(analysed_store), "--out", str(tmp_path / "b.csv"),
                          "--format", "britekit"])  # fmt: skip
    assert rc == 2
    assert err.endswith("b.csv already exists\n")


def test_an_absurd_recorder_date_is_a_warning_and_an_empty_date_everywhere(
    tmp_path: Path,
) -> None:
    """GUANO ``0001-01-01T01:00+14:00`` is valid ISO 8601 and no recording's date: a warning,
    and no date; a store of an older version that kept it exports with empty dates."""
    from audio_factory import chirp_train, guano_chunk, write_wav

    from bsgbat_gui.core.audio.recording import probe_recording

    path = write_wav(
        tmp_path / "year-one.wav", chirp_train(384_000, 0.3), 384_000,
        extra_chunks=guano_chunk({"Timestamp": "0001-01-01T01:00+14:00"}),
    )  # fmt: skip
    info = probe_recording(path)
    assert info.metadata.timestamp is None
    assert any("out of range" in w for w in info.warnings)
    # Kept by an older version: every export still works, the dates empty.
    absurd = dt.datetime(1, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14)))
    analysis = synthetic_analysis(tmp_path / "old.wav", 2.0, {PIPPIP: [(0, 0.9)]},
                                  timestamp=absurd)  # fmt: skip
    survey = Survey.of([SurveyRecording(analysis, MODEL_SET_ID)], golden_survey().settings)
    recordings = recording_rows(survey)
    for fmt in ("kaleidoscope", "summary", "csv"):
        export_survey(fmt, tmp_path / f"{fmt}.csv", recordings, scope=None)
    ids = _frame(tmp_path / "kaleidoscope.csv")
    assert (ids["DATE"][0], ids["DATE-12"][0], ids["AUTO ID*"][0]) == ("", "", "PIPPIP")
    assert set(_frame(tmp_path / "summary.csv")["night"]) == {"all", "unknown"}


def test_export_never_turns_a_file_that_is_not_a_store_into_one(tmp_path: Path) -> None:
    empty = tmp_path / "bsgbat-review.sqlite"
    empty.write_bytes(b"")
    rc, _, err = run_cli(["export", str(empty), "--out", str(tmp_path / "d.csv")])
    assert rc == 2
    assert "an empty file (0 bytes), not a review store" in err
    assert empty.read_bytes() == b""
    assert not (tmp_path / "d.csv").exists()
