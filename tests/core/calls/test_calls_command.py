"""`bsgbat-gui calls`: every real recording, the bad-input corpus, usage errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from bad_inputs import ERROR, WARNING, build_corpus
from cli_runner import run_cli
from synthetic_calls import TrueCall, render, write

from bsgbat_gui.core.audio.recording import probe_recording
from bsgbat_gui.core.calls.calls_csv import CALLS_CSV_COLUMNS


def _read(path: Path):  # -> pandas.DataFrame
    import pandas as pd

    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"file": str})


@pytest.mark.real_recordings
def test_every_real_recording(recordings_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "calls.csv"
    rc, stdout, stderr = run_cli(["calls", str(recordings_dir), "--out", str(out)])
    assert rc == 0, stderr
    assert "error" not in stderr
    frame = _read(out)
    assert tuple(frame.columns) == CALLS_CSV_COLUMNS
    wavs = sorted(p for p in recordings_dir.iterdir() if p.suffix.lower() == ".wav")
    assert set(frame["file"]) == {str(p) for p in wavs}  # calls in every recording
    assert f"wrote {len(frame)} calls" in stdout
    for path in wavs:
        info = probe_recording(path)
        rows = frame[frame["file"] == str(path)]
        assert rows["call"].tolist() == list(range(1, len(rows) + 1))
        assert (rows["time_expansion"] == info.time_expansion).all()
        assert (rows["start_s"] >= 0).all()
        assert (rows["end_s"] <= info.duration_s + 1e-3).all()
        assert (np.diff(rows["start_s"]) >= 0).all()
        assert (rows["fmax_khz"] <= info.true_rate_hz / 2000).all()
        assert (rows["fmin_khz"] >= 9 - 1e-9).all()
        assert (rows["fmin_khz"] <= rows["fme_khz"] + 0.5).all()
        assert (rows["fme_khz"] <= rows["fmax_khz"] + 0.5).all()
        # The peak cell is one of the call's, all at least extend_db above their floor.
        assert (rows["snr_db"] >= 10 - 1e-6).all()
        assert np.isnan(rows["interval_ms"].iloc[0])
    car = frame[frame["file"].str.contains("Car370293")]
    assert (car["time_expansion"] == 10).all()
    assert car["end_s"].max() <= 4.1  # real time, not the header's 41 s
    rhifer = frame[frame["file"].str.contains("RHIFER")]
    # Greater horseshoe: long constant-frequency calls near 82 kHz.
    long_cf = rhifer[(rhifer["duration_ms"] > 30) & (rhifer["fme_khz"].between(80, 85))]
    assert len(long_cf) >= 4
    assert (long_cf["slope_khz_per_ms"].abs() < 0.2).all()


def test_the_bad_input_corpus_gets_one_line_each(tmp_path: Path) -> None:
    folder = tmp_path / "night"
    corpus = build_corpus(folder)
    out = tmp_path / "calls.csv"
    rc, _, stderr = run_cli(["calls", str(folder), "--out", str(out)])
    assert rc == 1
    assert "Traceback" not in stderr
    assert "RuntimeWarning" not in stderr
    lines = stderr.splitlines()
    for entry in corpus:
        mine = [line for line in lines if f"{os.sep}{entry.name}:" in line]
        if entry.outcome == ERROR:
            assert len(mine) == 1, (entry.name, mine)
            assert mine[0].startswith("error: "), (entry, mine)
            assert entry.says in mine[0], (entry, mine)
        elif entry.outcome == WARNING:
            assert mine, entry.name
            assert all(m.startswith("warning: ") for m in mine), (entry.name, mine)
            assert any(entry.says in m for m in mine), (entry, mine)
        else:
            assert mine == [], (entry.name, mine)
    frame = _read(out)
    measured = {Path(name).name for name in frame["file"]}
    good = {e.name.replace("\\n", "\n") for e in corpus if e.analysed}
    # Every usable file's chirps are found, except where they are above the call band: the
    # 48 kHz ogg and the 38.4 kHz wamd file are taken as x10, their chirps (at 0.9-0.95 of
    # their Nyquist) as 170-230 kHz.
    assert measured == good - {"phone.ogg", "bad-wamd.wav"}
    n_bad = sum(not e.analysed for e in corpus)
    assert lines[-1] == f"{len(good)} measured, {n_bad} failed"


def test_options_set_the_band_threshold_and_duration(tmp_path: Path) -> None:
    calls = [TrueCall(0.1, 0.004, 70_000, 35_000), TrueCall(0.3, 0.001, 45_000, 44_000)]
    path = write(tmp_path / "two.wav", render(calls, 384_000, 0.5), 384_000)
    out = tmp_path / "calls.csv"
    assert run_cli(["calls", str(path), "--out", str(out)])[0] == 0
    assert len(_read(out)) == 2
    args = ["calls", str(path), "--out", str(out), "--min-duration-ms", "3"]
    assert run_cli(args)[0] == 0
    assert _read(out)["start_s"].tolist() == pytest.approx([0.1], abs=0.001)
    assert run_cli(["calls", str(path), "--out", str(out), "--band", "50", "150"])[0] == 0
    assert (_read(out)["fmin_khz"] >= 50).all()
    args = ["calls", str(path), "--out", str(out), "--threshold-db", "80", "--extend-db", "70"]
    assert run_cli(args)[0] == 0
    assert len(_read(out)) == 0  # nothing is 80 dB above the noise
    assert out.read_text().splitlines() == [",".join(CALLS_CSV_COLUMNS)]


def test_usage_errors_exit_2_and_write_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "a.wav", render([], 384_000, 0.2), 384_000)
    out = tmp_path / "calls.csv"
    rc, _, stderr = run_cli(["calls", str(path), "--out", str(out), "--band", "90", "40"])
    assert rc == 2
    assert stderr == "error: fmax_khz (40) must be above fmin_khz (90)\n"
    rc, _, stderr = run_cli(["calls", str(path), "--out", str(tmp_path / "no" / "c.csv")])
    assert rc == 2
    assert "folder for --out does not exist" in stderr
    rc, _, stderr = run_cli(["calls", str(tmp_path / "empty-dir-none"), "--out", str(out)])
    assert rc == 2
    assert "no such file or folder" in stderr
    assert not out.exists()


def test_benchmark_calls_reports_its_keys(tmp_path: Path) -> None:
    import json

    out = tmp_path / "bench.json"
    rc, stdout, stderr = run_cli(
        ["benchmark", "--calls", "--long-minutes", "0.1", "--json", str(out)]
    )
    assert rc == 0, stderr
    result = json.loads(out.read_text())
    # 6 s of calls every 90 ms: 67 calls.
    assert 60 <= result["calls_found"] <= 70
    assert result["calls_realtime_factor"] > 0
    assert 0 < result["calls_peak_extra_rss_mb"] < 500
    assert "calls_realtime_factor" in stdout
    assert "threshold_update_ms" not in result  # --calls measures calls only


def test_project_keeps_the_calls_settings_and_resumes(tmp_path: Path, model_set_dir: Path) -> None:
    """calls --project: the calls go to the store (an export then summarises them per
    detection), a second run reads them back instead of measuring, and options given with
    --project become the survey's call settings."""
    from bsgbat_gui.core.calls.settings import CallSettings
    from bsgbat_gui.core.review.store import ReviewStore

    night = tmp_path / "night"
    night.mkdir()
    for i in range(2):
        calls = [TrueCall(0.1 + 0.2 * k, 0.004, 60_000.0, 40_000.0) for k in range(4)]
        write(night / f"r{i}.wav", render(calls, 384_000, 1.2, seed=i), 384_000)
    store = night / "bsgbat-review.sqlite"
    rc, _, stderr = run_cli(["analyze", str(night), "--models", str(model_set_dir),
                             "--project", str(store)])  # fmt: skip
    assert rc == 0, stderr
    rc, stdout, stderr = run_cli(["calls", str(night), "--project", str(store)])
    assert rc == 0, stderr
    assert "2 measured (0 from" in stderr
    assert "kept 8 calls" in stdout
    out = tmp_path / "calls.csv"
    rc, stdout, stderr = run_cli(["calls", str(night), "--project", str(store), "--out", str(out)])
    assert rc == 0, stderr
    assert "2 measured (2 from" in stderr  # read back, not measured again
    assert len(_read(out)) == 8
    exported = tmp_path / "detections.csv"
    rc, _, stderr = run_cli(["export", str(store), "--out", str(exported), "--scope", "all"])
    assert rc == 0, stderr
    assert "n_calls" in _read(exported).columns
    # New settings given with --project are the survey's from now on (and measured anew).
    rc, _, stderr = run_cli(["calls", str(night), "--project", str(store),
                             "--threshold-db", "20"])  # fmt: skip
    assert rc == 0, stderr
    assert "2 measured (0 from" in stderr
    with ReviewStore.open(store) as kept:
        assert kept.call_settings() == CallSettings(threshold_db=20.0)


def test_nothing_to_write_is_a_usage_error(tmp_path: Path) -> None:
    rc, _, stderr = run_cli(["calls", str(tmp_path)])
    assert rc == 2
    assert "give --out" in stderr
