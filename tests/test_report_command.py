"""``bsgbat-gui report`` on a synthetic multi-night, multi-site review store: the report, site
positions, a sample drawn, saved and reported from, and the one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import run_cli
from report_survey import report_store

from bsgbat_gui.core.evaluation.sampling import load_sample
from bsgbat_gui.core.review.store import ReviewStore


def test_report_writes_one_self_contained_html(tmp_path: Path) -> None:
    store = report_store(tmp_path / "survey")
    out = tmp_path / "report.html"
    rc, stdout, stderr = run_cli(
        ["report", str(store), "--out", str(out), "--site-position", "south=51.0,5.0"]
    )
    assert rc == 0, stderr
    assert "8 recordings, 4 sites" in stdout
    assert "2 recording(s) not placed" in stderr  # east (no position), west (no UTC offset)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text
    assert "http://www.w3.org/2000/svg" in text  # the SVG namespace, not a fetch
    assert "south" in text
    assert "all decisions (not a random sample)" in text
    # The existing report is kept unless --overwrite.
    rc, _, stderr = run_cli(["report", str(store), "--out", str(out)])
    assert rc == 2
    assert stderr.count("\n") == 1
    assert "exists" in stderr
    rc, _, stderr = run_cli(["report", str(store), "--out", str(out), "--overwrite"])
    assert rc == 0, stderr


def test_sample_is_drawn_saved_and_reported_from(tmp_path: Path) -> None:
    store = report_store(tmp_path / "survey")
    out = tmp_path / "report.html"
    argv = ["report", str(store), "--out", str(out), "--sample-per-stratum", "2", "--seed", "9"]
    rc, stdout, stderr = run_cli(argv)
    assert rc == 0, stderr
    assert "sampled 9 detections (seed 9)" in stdout
    with ReviewStore.open(store) as opened:
        first = load_sample(opened)
    assert first is not None
    assert len(first.keys) == 9
    # The same seed draws the same sample; a later report uses the stored one.
    rc, _, stderr = run_cli([*argv, "--overwrite"])
    assert rc == 0
    assert "replaced" in stderr
    with ReviewStore.open(store) as opened:
        again = load_sample(opened)
    assert again is not None
    assert again.keys == first.keys
    rc, stdout, _ = run_cli(["report", str(store), "--out", str(out), "--overwrite"])
    assert rc == 0
    assert "sampled" not in stdout
    text = out.read_text(encoding="utf-8")
    assert "verification sample (stratified)" in text
    assert "9 detections sampled (2 per species × probability bin, seed 9" in text


def test_one_line_errors(tmp_path: Path) -> None:
    store = report_store(tmp_path / "survey")
    out = str(tmp_path / "r.html")
    cases = [
        (["report", str(tmp_path / "missing.sqlite"), "--out", out], "no such review store"),
        (["report", str(store), "--out", out, "--site-position", "north"], "FOLDER=LAT,LON"),
        (["report", str(store), "--out", out, "--sample-per-stratum", "3"], "needs --seed"),
        (["report", str(store), "--out", out, "--sample-bins", "0.9,0.1"], "increasing"),
        (["report", str(store), "--out", out, "--thresholds", str(tmp_path / "no.json")], ""),
    ]
    for argv, message in cases:
        rc, _, stderr = run_cli(argv)
        assert rc == 2, argv
        assert stderr.startswith("error: "), stderr
        assert message in stderr
        assert len([line for line in stderr.splitlines() if line.startswith("error")]) == 1
    assert not Path(out).exists()
    rc, _, stderr = run_cli(
        ["report", str(store), "--out", str(tmp_path / "no" / "dir" / "r.html")]
    )
    assert rc == 1
    assert stderr.startswith("error: cannot write")


def test_stored_sample_survives_as_json(tmp_path: Path) -> None:
    store = report_store(tmp_path / "survey")
    run_cli(["report", str(store), "--out", str(tmp_path / "r.html"), "--sample-per-stratum", "1",
             "--seed", "1"])  # fmt: skip
    with ReviewStore.open(store) as opened:
        document = json.loads(opened.get_meta("verification_sample") or "{}")
    assert document["format"] == "bsgbat-verification-sample"
    assert {d["path"].split("/")[0] for d in document["detections"]} <= {
        "north",
        "south",
        "east",
        "west",
    }
