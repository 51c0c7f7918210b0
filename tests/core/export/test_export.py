"""Exports of a reviewed survey: every format against golden files, read back with ``csv``; scopes;
spreadsheet formula injection; the import round trip; a kill during export; the summary."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from cli_runner import run_cli

from bsgbat_gui import __version__
from bsgbat_gui.core.analysis.analyse import RecordingAnalysis, windows_for
from bsgbat_gui.core.analysis.thresholds import ThresholdSettings
from bsgbat_gui.core.audio.metadata import RecordingMetadata
from bsgbat_gui.core.audio.recording import RecordingInfo
from bsgbat_gui.core.calls.parameters import CallTable
from bsgbat_gui.core.export.formats import (
    EXPORT_CSV_COLUMNS,
    EXPORT_FORMATS,
    FORMAT_SCOPES,
    KALEIDOSCOPE_COLUMNS,
    SPREADSHEET_FORMATS,
    ExportError,
    ExportTargetExists,
    export_survey,
)
from bsgbat_gui.core.review.decision_import import plan_import
from bsgbat_gui.core.review.decisions import Decision, RecordingReview
from bsgbat_gui.core.review.store import ReviewStore
from bsgbat_gui.core.review.survey import (
    Survey,
    SurveyRecording,
    night_of,
    recording_rows,
    select_rows,
    summarise,
)
from bsgbat_gui.core.species import SPECIES

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "export"
LABELS = tuple(s.scientific_name for s in SPECIES)
PIPPIP = LABELS.index("Pipistrellus pipistrellus")
NYCNOC = LABELS.index("Nyctalus noctula")
MODEL_SET_ID = "0123456789abcdef" * 4
EVIL_NAME = '=HYPERLINK("evil.example","click me").wav'


def synthetic_analysis(
    path: Path,
    seconds: float,
    peaks: dict[int, list[tuple[int, float]]],
    *,
    time_expansion: float = 1.0,
    timestamp: dt.datetime | None = None,
    position: tuple[float, float] | None = None,
) -> RecordingAnalysis:
    """An analysis whose probabilities are 0.01 except ``peaks`` {label: [(segment, p)]}; the
    six models agree, so every combine method gives these probabilities."""
    rate = 384_000
    info = RecordingInfo(
        path=path,
        header_rate_hz=round(rate / time_expansion),
        channels=1,
        header_frames=round(seconds * rate),  # samples: real seconds at the true rate
        format="WAV",
        subtype="PCM_16",
        time_expansion=time_expansion,
        time_expansion_source="guano" if time_expansion != 1 else "none",
        metadata=RecordingMetadata(
            timestamp=timestamp,
            latitude=position[0] if position else None,
            longitude=position[1] if position else None,
        ),
    )
    windows = windows_for(info)
    p = np.full((len(windows), len(LABELS)), 0.01, np.float64)
    for label, values in peaks.items():
        for segment, value in values:
            p[segment, label] = value
    logits = np.log(p / (1 - p)).astype(np.float32)
    return RecordingAnalysis(
        info, tuple(windows), np.repeat(logits[None], 6, axis=0), LABELS, tuple("abcdef")
    )


def golden_survey() -> Survey:
    """Three recordings (one time-expanded ×10, one with an evil name, one at another night) and
    decisions of every kind, including one the thresholds no longer make an event."""
    tz = dt.timezone(dt.timedelta(hours=2))
    a = synthetic_analysis(
        Path("/survey/north/A_20240601_223000.wav"), 4.0,
        {PIPPIP: [(1, 0.9), (2, 0.8), (5, 0.7)], NYCNOC: [(0, 0.6)]},
        timestamp=dt.datetime(2024, 6, 1, 22, 30, tzinfo=tz), position=(52.123456, 4.5),
    )  # fmt: skip
    b = synthetic_analysis(
        Path("/survey/south") / EVIL_NAME, 2.0, {PIPPIP: [(0, 0.95)], NYCNOC: [(2, 0.55)]},
        timestamp=dt.datetime(2024, 6, 2, 3, 15, tzinfo=tz),
    )  # fmt: skip
    c = synthetic_analysis(
        Path("/survey/south/C_te10.wav"), 3.0, {NYCNOC: [(3, 0.85), (4, 0.75)]},
        time_expansion=10.0, timestamp=dt.datetime(2024, 6, 2, 21, 5, tzinfo=tz),
    )  # fmt: skip
    rows = {r.recording.path: r.rows for r in recording_rows(_survey([a, b, c], ()))}
    _, pip_a, _ = rows[a.info.path]  # in time order: 0.0 s noc, 0.5 s pip, 2.5 s pip
    decided = "2024-06-10T09:00:00+02:00"
    decisions = (
        Decision(pip_a.path, pip_a.species_auto, pip_a.start_s, pip_a.end_s, "confirmed",
                 pip_a.species_auto, "", "Ann", decided, id=1),
        Decision(b.info.path, LABELS[PIPPIP], 0.0, 1.024, "relabelled", LABELS[NYCNOC],
                 "@SUM(A1) social?", "Ann", decided, id=2),
        Decision(b.info.path, LABELS[NYCNOC], 1.0, 2.0, "rejected", "", "-noise", "Bob",
                 decided, id=3),
        # A confirmation the current thresholds no longer make an event (p = 0.01 there).
        Decision(c.info.path, LABELS[PIPPIP], 0.0, 1.024, "confirmed", LABELS[PIPPIP],
                 "heard at ×10", "Bob", decided, id=4),
    )  # fmt: skip
    return _survey([a, b, c], decisions)


def golden_calls() -> CallTable:
    """Measured calls of recording A: three in its pipistrelle event at 0.5-1.5 s (FME 45, 47,
    46 kHz; 5, 6, 4 ms; 100 ms apart), one before it. Recordings B and C were not measured."""
    rows = [  # start_s, end_s, duration_ms, fmax, fmin, bandwidth, fme, slope, peak dB, snr dB
        (0.100, 0.108, 8.0, 30.0, 20.0, 10.0, 24.0, -1.25, -30.0, 20.0),
        (0.600, 0.605, 5.0, 80.0, 44.0, 36.0, 45.0, -7.2, -20.0, 30.0),
        (0.700, 0.706, 6.0, 82.0, 45.0, 37.0, 47.0, -6.2, -22.0, 28.0),
        (0.800, 0.804, 4.0, 78.0, 44.5, 33.5, 46.0, -8.4, -25.0, 25.0),
    ]
    return CallTable.from_rows(rows)


def _survey(analyses: list[RecordingAnalysis], decisions: tuple[Decision, ...]) -> Survey:
    reviews = {Path("/survey/north/A_20240601_223000.wav"): RecordingReview(reviewed=True)}
    calls = {Path("/survey/north/A_20240601_223000.wav"): golden_calls()}
    return Survey.of(
        [SurveyRecording(a, MODEL_SET_ID, reviews.get(a.info.path, RecordingReview()),
                         calls.get(a.info.path))
         for a in analyses],
        ThresholdSettings({LABELS[NYCNOC]: 0.55}, "mean"),
        decisions,
    )  # fmt: skip


def _files_text(files: tuple[Path, ...], root: Path) -> str:
    parts = []
    for path in sorted(files):
        text = path.read_text(encoding="utf-8").replace(__version__, "{app_version}")
        text = text.replace(str(root), "{out}")
        parts.append(f"=== {path.relative_to(root)}\n{text}")
    return "".join(parts)


def widest_scope(fmt: str) -> str | None:
    """The most detections a format writes: every status where it selects detections."""
    scopes = FORMAT_SCOPES[fmt]
    return "all" if "all" in scopes else (scopes[0] if scopes else None)


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_every_format_matches_its_golden_file(fmt: str, tmp_path: Path) -> None:
    recordings = recording_rows(golden_survey())
    out = tmp_path / fmt if fmt in ("raven", "audacity") else tmp_path / f"{fmt}.csv"
    result = export_survey(fmt, out, recordings, scope=widest_scope(fmt))
    actual = _files_text(result.files, tmp_path)
    golden = GOLDEN / f"{fmt}.txt"
    if os.environ.get("BSGBAT_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")


def test_csv_reads_back_with_the_documented_columns_and_values(tmp_path: Path) -> None:
    recordings = recording_rows(golden_survey())
    export_survey("csv", tmp_path / "d.csv", recordings, scope="all")
    with (tmp_path / "d.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == EXPORT_CSV_COLUMNS
        rows = list(reader)
    by_status = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(row)
    assert set(by_status) == {"confirmed", "relabelled", "rejected", "unreviewed"}
    first = rows[0]
    assert first["recording_start"] == "2024-06-01T22:30:00+02:00"
    assert (first["latitude"], first["longitude"]) == ("52.123456", "4.500000")
    assert first["model_set"] == MODEL_SET_ID[:12]
    assert first["app_version"] == __version__
    relabelled = by_status["relabelled"][0]
    assert relabelled["species_auto"] == LABELS[PIPPIP]
    assert relabelled["species_final"] == LABELS[NYCNOC]
    assert float(relabelled["max_prob"]) == pytest.approx(0.95, abs=1e-6)
    assert by_status["rejected"][0]["species_final"] == ""
    # The off-threshold confirmation is kept, with what the models say over its span.
    kept = [r for r in by_status["confirmed"] if r["file"] == "C_te10.wav"]
    assert len(kept) == 1
    assert float(kept[0]["max_prob"]) == pytest.approx(0.01, abs=1e-6)
    # Decimals are dots, times ISO 8601 with an offset.
    assert all(dt.datetime.fromisoformat(r["reviewed_at"]).utcoffset() for r in rows
               if r["reviewed_at"])  # fmt: skip


def test_scopes_are_nested_and_select_by_status() -> None:
    recordings = recording_rows(golden_survey())
    verified = select_rows(recordings, "verified")
    detections = select_rows(recordings, "detections")
    everything = select_rows(recordings, "all")
    assert {r.status for r in verified} == {"confirmed", "relabelled"}
    assert {r.status for r in detections} == {"confirmed", "relabelled", "unreviewed"}
    assert {r.status for r in everything} == {"confirmed", "relabelled", "rejected", "unreviewed"}
    assert set(verified) <= set(detections) <= set(everything)
    # --recordings reviewed: recording A (marked reviewed) and B (every event decided).
    reviewed = {r.path.name for r in select_rows(recordings, "all", "reviewed")}
    assert reviewed == {"A_20240601_223000.wav", EVIL_NAME}


def test_spreadsheet_files_are_inert_and_machine_files_verbatim(tmp_path: Path) -> None:
    """In the files meant for spreadsheets (CSV, summary) a recording named =HYPERLINK(…).wav
    and notes starting with @ or - cannot run as formulas: every such cell starts with '. The
    files programs read and match on carry the names verbatim."""
    recordings = recording_rows(golden_survey())
    for fmt in SPREADSHEET_FORMATS:
        out = tmp_path / f"{fmt}.csv"
        result = export_survey(fmt, out, recordings, scope=widest_scope(fmt))
        for path in result.files:
            text = path.read_text(encoding="utf-8")
            delimiter = "," if path.suffix == ".csv" else "\t"
            for row in csv.reader(io.StringIO(text), delimiter=delimiter):
                for cell in row:
                    assert not cell.startswith(("=", "+", "@", "\t", "\r")), (fmt, cell)
                    # "-" starts only numbers (never a negative time here) or inert text
                    assert not cell.startswith("-"), (fmt, cell)
    rows = _read(tmp_path / "csv.csv")
    assert "'" + EVIL_NAME in {r["file"] for r in rows}
    assert "'@SUM(A1) social?" in {r["note"] for r in rows}
    evil_stem = EVIL_NAME.removesuffix(".wav")
    britekit = export_survey("britekit", tmp_path / "b.csv", recordings)
    assert evil_stem in {r["recording"] for r in _read(britekit.files[0])}
    ids = export_survey("kaleidoscope", tmp_path / "id.csv", recordings)
    assert EVIL_NAME in {r["IN FILE"] for r in _read(ids.files[0])}
    raven = export_survey("raven", tmp_path / "raven", recordings, scope="all")
    assert tmp_path / "raven" / "south" / f"{evil_stem}.Table.1.selections.txt" in raven.files


def test_export_never_overwrites_silently(tmp_path: Path) -> None:
    recordings = recording_rows(golden_survey())
    target = tmp_path / "d.csv"
    target.write_text("keep me\n")
    with pytest.raises(ExportTargetExists, match=r"d\.csv already exists$"):
        export_survey("csv", target, recordings)
    assert target.read_text() == "keep me\n"
    export_survey("csv", target, recordings, overwrite=True)
    assert target.read_text().startswith("file,path,")


def test_export_into_a_read_only_folder_says_so(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    with pytest.raises(ExportError, match="read-only"):
        export_survey("csv", folder / "d.csv", recording_rows(golden_survey()))


def test_kaleidoscope_id_csv_follows_kaleidoscope_pro_conventions(tmp_path: Path) -> None:
    """The 44 columns of Kaleidoscope Pro's id.csv in its order; AUTO ID* an upper-case code,
    Noise for no bat; PULSES/MATCHING/MATCH RATIO consistent; CHANNEL and OFFSET filled."""
    survey = golden_survey()
    quiet = synthetic_analysis(Path("/survey/south/D_quiet.wav"), 1.0, {})
    survey = Survey.of(
        [*survey.recordings, SurveyRecording(quiet, MODEL_SET_ID, RecordingReview(no_bats=True))],
        survey.settings, survey.decisions,
    )  # fmt: skip
    export_survey("kaleidoscope", tmp_path / "id.csv", recording_rows(survey))
    with (tmp_path / "id.csv").open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == KALEIDOSCOPE_COLUMNS
        assert len(KALEIDOSCOPE_COLUMNS) == 44
        rows = {r["IN FILE"]: r for r in reader}
    a = rows["A_20240601_223000.wav"]
    # A: Pippip 3 detected segments (two events), Nycnoc 1 -> PIPPIP with 3 of 4.
    assert (a["AUTO ID*"], a["PULSES"], a["MATCHING"], a["MATCH RATIO"]) == (
        "PIPPIP", "4", "3", "0.750",
    )  # fmt: skip
    assert (a["ALTERNATE 1"], a["ALTERNATE 2"], a["N"], a["FILES"]) == ("NYCNOC", "", "4", "1")
    assert a["MANUAL ID"] == "PIPPIP"
    assert (a["CHANNEL"], a["OFFSET"]) == ("0", "0")
    assert (a["DATE"], a["TIME"], a["HOUR"]) == ("2024-06-01", "22:30:00", "22")
    assert (a["DATE-12"], a["TIME-12"], a["HOUR-12"]) == ("2024-06-01", "10:30:00", "10")
    assert (a["FOLDER"], a["INDIR"]) == ("north", "/survey")
    b = rows[EVIL_NAME]  # verbatim: programs match IN FILE against the file names
    assert (b["TIME"], b["HOUR"], b["DATE-12"]) == ("03:15:00", "3", "2024-06-01")
    c = rows["C_te10.wav"]
    assert c["AUTO ID*"] == "NYCNOC"
    assert c["DURATION"] == "3.000000"
    d = rows["D_quiet.wav"]
    assert (d["AUTO ID*"], d["MANUAL ID"], d["PULSES"]) == ("Noise", "Noise", "")
    assert (d["DATE"], d["TIME"]) == ("", "")  # no timestamp: left empty


def test_raven_and_audacity_use_file_time_for_time_expanded_recordings(tmp_path: Path) -> None:
    recordings = recording_rows(golden_survey())
    result = export_survey("raven", tmp_path / "raven", recordings, scope="all")
    table = next(p for p in result.files if p.name.startswith("C_te10"))
    assert table == tmp_path / "raven" / "south" / "C_te10.Table.1.selections.txt"
    with table.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    event = next(r for r in rows if r["Species"] == LABELS[NYCNOC])
    # Segments 3-4 start at 1.5 s real = 15 s in the x10 file; the band is 0.9-15 kHz there.
    assert float(event["Begin Time (s)"]) == pytest.approx(15.0)
    assert (event["Low Freq (Hz)"], event["High Freq (Hz)"]) == ("900.0", "15000.0")


def test_summary_counts_per_species_and_per_night() -> None:
    summary = summarise(recording_rows(golden_survey()))
    counts = {c.species: c for c in summary.species}
    pip, noc = counts[LABELS[PIPPIP]], counts[LABELS[NYCNOC]]
    assert (pip.detections, pip.confirmed, pip.rejected, pip.recordings_confirmed) == (3, 2, 0, 2)
    assert (noc.detections, noc.confirmed, noc.rejected, noc.recordings_confirmed) == (3, 1, 1, 1)
    nights = dict(summary.nights)
    # A (22:30 on the 1st) and B (03:15 on the 2nd) are one night; C (21:05 on the 2nd) the next.
    assert list(nights) == ["2024-06-01", "2024-06-02"]
    assert {c.species for c in nights["2024-06-02"]} == {LABELS[NYCNOC], LABELS[PIPPIP]}
    assert night_of(None) == "unknown"
    assert night_of(dt.datetime(2024, 6, 2, 11, 59)) == "2024-06-01"
    assert night_of(dt.datetime(2024, 6, 2, 12, 0)) == "2024-06-02"


def test_import_plan_reports_rows_that_match_nothing(tmp_path: Path) -> None:
    survey = golden_survey()
    recordings = recording_rows(survey)
    export_survey("csv", tmp_path / "d.csv", recordings, scope="all")
    rows = _read(tmp_path / "d.csv")
    rows[0]["path"] = "/elsewhere/x.wav"
    rows[0]["status"] = "confirmed"
    rows[1]["status"] = "maybe"
    with (tmp_path / "e.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, EXPORT_CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    plan = plan_import(tmp_path / "e.csv", recordings, survey.decisions, survey.labels)
    assert len(plan.problems) == 2
    assert "line 2" in plan.problems[0]
    assert "/elsewhere/x.wav" in plan.problems[0]
    assert "line 3" in plan.problems[1]
    assert "maybe" in plan.problems[1]
    assert plan.changes == []  # nothing guessed; everything else unchanged


# -- on real recordings, through the commands ---------------------------------------------------


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_import_round_trip_on_real_recordings(analysed_store: Path, tmp_path: Path) -> None:
    """export --scope detections, edit statuses in the CSV, import, export --scope verified:
    the verified export holds exactly the edits."""
    store = tmp_path / "review.sqlite"
    store.write_bytes(analysed_store.read_bytes())
    rc, _, err = run_cli(["export", str(store), "--out", str(tmp_path / "d.csv"),
                          "--scope", "detections"])  # fmt: skip
    assert rc == 0, err
    rows = _read(tmp_path / "d.csv")
    assert len(rows) >= 6
    assert {r["status"] for r in rows} == {"unreviewed"}
    edits = {
        0: ("confirmed", "", "clear FM sweeps"),
        1: ("rejected", "", "=noise burst"),
        2: ("relabelled", "Pipistrellus pipistrellus", "@ 45 kHz peak"),
        3: ("relabelled", "social call", ""),
    }
    for i, (status, final, note) in edits.items():
        rows[i].update(status=status, species_final=final, note=note)
    _write(tmp_path / "edited.csv", rows)
    rc, out, err = run_cli(["import-decisions", str(store), str(tmp_path / "edited.csv"),
                            "--reviewer", "Ann"])  # fmt: skip
    assert rc == 0, err
    assert "4 new" in out
    assert "0 not matched" in out
    # Importing the same file again changes nothing.
    rc, out, _ = run_cli(["import-decisions", str(store), str(tmp_path / "edited.csv")])
    assert "0 new, 0 changed, 0 cleared" in out

    rc, _, err = run_cli(["export", str(store), "--out", str(tmp_path / "v.csv")])
    assert rc == 0, err
    verified = _read(tmp_path / "v.csv")
    expected = {
        (rows[i]["path"], rows[i]["species_auto"], rows[i]["start_s"], rows[i]["end_s"], status,
         final or rows[i]["species_auto"], "'" + note if note[:1] in "=@" and note else note)
        for i, (status, final, note) in edits.items()
        if status != "rejected"
    }  # fmt: skip
    got = {
        (r["path"], r["species_auto"], r["start_s"], r["end_s"], r["status"], r["species_final"],
         r["note"])
        for r in verified
    }  # fmt: skip
    assert got == expected
    assert {r["reviewer"] for r in verified} == {"Ann"}

    # Edit again: un-review one confirmation, confirm the rejected one.
    rows = _read(tmp_path / "d.csv")
    for i, (status, final, note) in edits.items():
        rows[i].update(status=status, species_final=final, note=note)
    rows[0]["status"] = "unreviewed"
    rows[1]["status"] = "confirmed"
    _write(tmp_path / "edited2.csv", rows)
    rc, out, _ = run_cli(["import-decisions", str(store), str(tmp_path / "edited2.csv")])
    assert "0 new, 1 changed, 1 cleared" in out
    run_cli(["export", str(store), "--out", str(tmp_path / "v2.csv")])
    verified = {(r["path"], r["species_auto"], r["start_s"]): r["status"]
                for r in _read(tmp_path / "v2.csv")}  # fmt: skip
    assert verified[rows[1]["path"], rows[1]["species_auto"], rows[1]["start_s"]] == "confirmed"
    assert (rows[0]["path"], rows[0]["species_auto"], rows[0]["start_s"]) not in verified


def test_every_format_from_a_store_of_real_recordings(analysed_store: Path, tmp_path: Path) -> None:
    for fmt in EXPORT_FORMATS:
        out = tmp_path / fmt
        scope = widest_scope(fmt)
        rc, message, err = run_cli(
            ["export", str(analysed_store), "--out", str(out), "--format", fmt,
             *(["--scope", scope] if scope else [])]
        )  # fmt: skip
        assert rc == 0, err
        assert out.exists()
        assert message.startswith("wrote ")
    kaleidoscope = _read(tmp_path / "kaleidoscope")
    assert len(kaleidoscope) == 7
    # Raven: one table per recording with an event, each parseable with its header.
    tables = sorted((tmp_path / "raven").rglob("*.Table.1.selections.txt"))
    assert tables
    for table in tables:
        with table.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        assert rows
        assert all(float(r["End Time (s)"]) > float(r["Begin Time (s)"]) for r in rows)
    # The export refuses to overwrite, and says so.
    rc, _, err = run_cli(["export", str(analysed_store), "--out", str(tmp_path / "csv")])
    assert rc == 2
    assert "already exist" in err


def test_a_kill_during_export_leaves_the_old_file_or_the_complete_new_one(tmp_path: Path) -> None:
    """SIGKILL an export of a large survey at several moments: the target is always either the
    previous export or the complete new one."""
    target = tmp_path / "out.csv"
    old = "file,path\nold,export\n"
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[2])!r}]
        from test_export import big_survey
        from bsgbat_gui.core.review.survey import recording_rows
        from bsgbat_gui.core.export.formats import export_survey
        recordings = recording_rows(big_survey())
        print("ready", flush=True)
        export_survey("csv", Path({str(target)!r}), recordings, scope="all", overwrite=True)
        print("done", flush=True)
        """
    )
    outcomes = set()
    for delay in (0.0, 0.05, 0.15, 0.4, 5.0):
        target.write_text(old)
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        text = target.read_text()
        if text == old:
            outcomes.add("old")
        else:
            lines = text.splitlines()
            assert lines[0] == ",".join(EXPORT_CSV_COLUMNS)
            assert len(lines) == 1 + BIG_SURVEY_EVENTS, "a partial file under the final name"
            outcomes.add("new")
    assert "old" in outcomes  # at least one kill landed mid-export


BIG_SURVEY_EVENTS = 60 * 200


def big_survey() -> Survey:
    """60 recordings of 200 s, each with 200 one-segment Pippip events (every other segment)."""
    analyses = [
        synthetic_analysis(
            Path(f"/survey/big/r{i:03d}.wav"),
            200.5,
            {PIPPIP: [(2 * k, 0.9) for k in range(200)]},
        )
        for i in range(60)
    ]
    return Survey.of([SurveyRecording(a, MODEL_SET_ID) for a in analyses], ThresholdSettings())


def test_load_survey_rebuilds_analyses_without_the_recordings(
    analysed_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export works from the store alone (recordings moved to another disk)."""
    from bsgbat_gui.core.review import analysis_cache
    from bsgbat_gui.core.review.survey import load_survey

    def no_file_access(*args: object, **kwargs: object) -> None:
        raise AssertionError("the recording was read")

    monkeypatch.setattr(analysis_cache, "probe_recording", no_file_access)
    with ReviewStore.open(analysed_store, exclusive=False) as store:
        survey, problems = load_survey(store)
    assert problems == []
    assert len(survey.recordings) == 7
    te10 = next(r for r in survey.recordings if r.path.name.startswith("Car370293"))
    assert te10.analysis.info.time_expansion == 10
    assert te10.analysis.info.duration_s == pytest.approx(4.0987, abs=1e-3)


def test_temporaries_a_killed_writer_left_are_removed_by_the_next_write(tmp_path: Path) -> None:
    """A SIGKILL mid-write leaves ``.name.XXXX.tmp`` beside the target (for a GUANO write-back,
    a full copy of the recording): the next write of that target removes it once it is stale,
    and leaves alone what may still be being written and what belongs to other files."""
    from bsgbat_gui.core.files import STALE_TEMPORARY_S, AtomicTextFile

    target = tmp_path / "out.csv"
    stale = tmp_path / ".out.csv.k1ll3d00.tmp"
    recent = tmp_path / ".out.csv.wr1t1ng0.tmp"
    other = tmp_path / ".other.csv.k1ll3d00.tmp"
    long_ago = time.time() - STALE_TEMPORARY_S - 60
    for path in (stale, recent, other):
        path.write_text("partial")
    for path in (stale, other):
        os.utime(path, (long_ago, long_ago))
    with AtomicTextFile(target) as f:
        f.write("complete\n")
    assert target.read_text() == "complete\n"
    assert not stale.exists()
    assert recent.exists()
    assert other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, recent.name, other.name]
    )
