"""`analyze --segments` and `analyze --detections` against golden files: the real command on small
synthetic recordings (made here, so the files never depend on data that may be absent) with the
band-energy test models.

The golden files are written by the command itself. To regenerate them after a deliberate change
of the output::

    BSGBAT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/core/analysis/test_analyze_golden.py

then review the diff of ``tests/golden/analyze/`` before committing it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from audio_factory import chirp_train, guano_chunk, write_wav
from cli_runner import run_cli

from bsgbat_gui.core.export.analysis_csv import (
    DETECTIONS_CSV_COLUMNS,
    SEGMENTS_CSV_LEADING_COLUMNS,
)

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "analyze"
RATE = 384_000
FOLDER_TOKEN = "{night}"

# A preset that moves two thresholds away from 0.5, so the threshold column is not constant and
# a second species (the band-energy model's faint Myotis alcathoe response to the horseshoe
# call) makes events. Every probability is far (>= 0.02) from its threshold, so which segments
# are detected cannot change with the last bits of the arithmetic.
PRESET = {
    "format": "bsgbat-gui thresholds",
    "version": 1,
    "combine": "mean",
    "thresholds": {"Pipistrellus pipistrellus": 0.4, "Myotis alcathoe": 0.12},
}

# The probabilities are float32 model outputs (ONNX Runtime picks its MatMul/ReduceMean kernels
# for the CPU at run time: AVX2, AVX-512, NEON sum in different orders) of a mel spectrogram
# (FFT and filterbank products, also CPU-dependent), so on another machine a value may land on
# the other side of a rounding boundary of its sixth decimal. They are therefore compared as
# numbers within two units of that last printed place, and must still be printed in the
# command's own format (6 decimals). Everything else — header, row order and count, file names,
# segment numbers, times, flags, species, segment counts, thresholds — is compared exactly.
PROBABILITY_TOLERANCE = 2e-6
PROBABILITY_FORMAT = re.compile(r"[01]\.\d{6}")


def make_night(folder: Path) -> None:
    """Three small recordings: pipistrelle-like calls, silence, calls again (two events and a
    tail window); a horseshoe-like constant-frequency train; a ×10 time-expanded noctule-like
    train shorter than one window (a padded window)."""
    folder.mkdir()
    pip = chirp_train(RATE, 1.5, f_start_hz=50_000, f_end_hz=44_000, call_s=0.006, seed=2)
    quiet = chirp_train(RATE, 1.5, amplitude=0.0, seed=1)
    pip_again = chirp_train(RATE, 1.0, f_start_hz=50_000, f_end_hz=44_000, call_s=0.006, seed=5)
    write_wav(folder / "pip_quiet_pip.wav", np.concatenate([pip, quiet, pip_again]), RATE)
    rhifer = chirp_train(RATE, 2.0, f_start_hz=82_000, f_end_hz=81_000, call_s=0.04, seed=3)
    write_wav(folder / "rhifer.wav", rhifer, RATE)
    te_rate = RATE // 10  # 2.5 s in the file = 0.25 s of real time
    noctule = chirp_train(te_rate, 2.5, f_start_hz=2_200, f_end_hz=1_800, call_s=0.1, seed=4)
    write_wav(folder / "noctule_te10.wav", noctule, te_rate, extra_chunks=guano_chunk({"TE": "10"}))


@pytest.fixture(scope="module")
def analyze_outputs(
    model_set_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The two CSVs of one ``analyze`` run, the recordings' folder replaced by ``{night}``."""
    root = tmp_path_factory.mktemp("analyze-golden").resolve()
    folder = root / "night"
    make_night(folder)
    preset = root / "preset.json"
    preset.write_text(json.dumps(PRESET), encoding="utf-8")
    segments, detections = root / "segments.csv", root / "detections.csv"
    rc, stdout, stderr = run_cli(
        ["analyze", str(folder), "--models", str(model_set_dir), "--thresholds", str(preset),
         "--segments", str(segments), "--detections", str(detections)]
    )  # fmt: skip
    assert rc == 0, stderr
    assert stdout == ""  # with output files, nothing on stdout
    assert stderr.splitlines()[-1] == "3 analysed, 0 failed"
    # The file column holds each recording's absolute path, which lies in this run's temporary
    # folder: that prefix (and only that) is replaced by a fixed token.
    prefix = str(folder) + os.sep
    return {
        name: path.read_text(encoding="utf-8").replace(prefix, FOLDER_TOKEN + "/")
        for name, path in (("segments.csv", segments), ("detections.csv", detections))
    }


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def assert_matches_golden(actual: str, name: str, probability_columns: set[str]) -> None:
    golden = GOLDEN / name
    if os.environ.get("BSGBAT_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8", newline="")
    expected_rows = rows_of(golden.read_text(encoding="utf-8"))
    actual_rows = rows_of(actual)
    assert actual.endswith("\n")
    assert actual_rows[0] == expected_rows[0], "header"
    header = expected_rows[0]
    assert [r[0] for r in actual_rows] == [r[0] for r in expected_rows], "rows (by file)"
    for line, (got, want) in enumerate(zip(actual_rows, expected_rows, strict=True), start=1):
        assert len(got) == len(header), (name, line)
        for column, got_cell, want_cell in zip(header, got, want, strict=True):
            where = (name, line, column)
            if line > 1 and column in probability_columns:
                assert PROBABILITY_FORMAT.fullmatch(got_cell), (*where, got_cell)
                assert float(got_cell) == pytest.approx(
                    float(want_cell), abs=PROBABILITY_TOLERANCE
                ), where
            else:
                assert got_cell == want_cell, where


def test_analyze_segments_csv_matches_its_golden_file(analyze_outputs: dict[str, str]) -> None:
    text = analyze_outputs["segments.csv"]
    header = rows_of(text)[0]
    assert tuple(header[: len(SEGMENTS_CSV_LEADING_COLUMNS)]) == SEGMENTS_CSV_LEADING_COLUMNS
    labels = set(header[len(SEGMENTS_CSV_LEADING_COLUMNS) :])
    assert len(labels) == 22
    assert_matches_golden(text, "segments.csv", labels)


def test_analyze_detections_csv_matches_its_golden_file(analyze_outputs: dict[str, str]) -> None:
    text = analyze_outputs["detections.csv"]
    assert tuple(rows_of(text)[0]) == DETECTIONS_CSV_COLUMNS
    assert_matches_golden(text, "detections.csv", {"max_prob", "mean_prob"})


def test_the_golden_files_are_the_same_run(analyze_outputs: dict[str, str]) -> None:
    """The golden detections are what the golden segments give at the preset's thresholds
    (runs of consecutive windows at or above the threshold, per file and species), so the two
    files cannot drift apart when one of them is regenerated."""
    segments = list(csv.DictReader(io.StringIO((GOLDEN / "segments.csv").read_text("utf-8"))))
    thresholds = PRESET["thresholds"]
    assert isinstance(thresholds, dict)
    species = [c for c in segments[0] if c not in SEGMENTS_CSV_LEADING_COLUMNS]
    expected = []
    for file in dict.fromkeys(r["file"] for r in segments):
        rows = [r for r in segments if r["file"] == file]
        for name in species:
            if name == "Background":
                continue
            threshold = float(thresholds.get(name, 0.5))
            run: list[dict[str, str]] = []
            for row in [*rows, None]:
                if row is not None and float(row[name]) >= threshold:
                    run.append(row)
                elif run:
                    probs = [float(r[name]) for r in run]
                    expected.append(
                        (file, name, run[0]["start_s"], run[-1]["end_s"], max(probs),
                         sum(probs) / len(probs), len(run), threshold)
                    )  # fmt: skip
                    run = []
    expected.sort(key=lambda e: (e[0], float(e[2]), species.index(e[1])))
    detections = list(csv.DictReader(io.StringIO((GOLDEN / "detections.csv").read_text("utf-8"))))
    assert len(detections) == len(expected) >= 4
    for got, want in zip(detections, expected, strict=True):
        assert (got["file"], got["species"], got["start_s"], got["end_s"]) == want[:4]
        assert float(got["max_prob"]) == want[4]  # the same float, printed the same way
        # The mean of the rounded values: each off by at most 5e-7, the printed mean too.
        assert float(got["mean_prob"]) == pytest.approx(want[5], abs=1.5e-6)
        assert (int(got["n_segments"]), float(got["threshold"])) == want[6:]
    assert {d["species"] for d in detections} >= {"Pipistrellus pipistrellus", "Myotis alcathoe"}
