"""`analyze --thresholds --detections` on the real recordings, against an independent reading of
the `--segments` output of the same run."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from typing import TYPE_CHECKING

import pytest
from cli_runner import run_cli

from bsgbat_gui.core.model_card import BACKGROUND_LABEL

if TYPE_CHECKING:
    from pathlib import Path

PRESET = {
    "format": "bsgbat-gui thresholds",
    "version": 1,
    "combine": "median",
    "thresholds": {
        "Pipistrellus kuhlii": 0.3,
        "Nyctalus leisleri": 0.35,
        "Myotis daubentonii": 0.8,
        "Plecotus auritus": 0.2,
        "Background": 0.1,  # a threshold, but Background never makes events
        "Myotis nattereri": 0.4,  # not a BSG-BAT species: reported, not fatal
    },
}


def events_from_segments_csv(path: Path, thresholds: dict[str, float]) -> list[tuple]:
    """The detection rule applied to the segments CSV, written independently of the app."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    species = [c for c in rows[0] if c not in ("file", "segment", "start_s", "end_s", "flags")]
    by_file: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_file[row["file"]].append(row)
    events = []
    for file, file_rows in by_file.items():
        file_rows.sort(key=lambda r: int(r["segment"]))  # window order, tail last
        for name in species:
            if name == BACKGROUND_LABEL:
                continue
            threshold = thresholds.get(name, 0.5)
            run: list[dict[str, str]] = []
            for row in [*file_rows, None]:
                if row is not None and float(row[name]) >= threshold:
                    run.append(row)
                    continue
                if run:
                    probs = [float(r[name]) for r in run]
                    events.append(
                        (
                            file,
                            name,
                            run[0]["start_s"],
                            run[-1]["end_s"],
                            max(probs),
                            sum(probs) / len(probs),
                            len(run),
                            threshold,
                        )
                    )
                run = []
    return events


@pytest.mark.real_recordings
def test_detections_csv_equals_the_rule_applied_to_the_segments_csv(
    recordings_dir: Path, model_set_dir: Path, tmp_path: Path
) -> None:
    preset = tmp_path / "preset.json"
    preset.write_text(json.dumps(PRESET), encoding="utf-8")
    segments, detections = tmp_path / "segments.csv", tmp_path / "detections.csv"
    rc, _, stderr = run_cli(
        [
            "analyze",
            str(recordings_dir),
            "--models",
            str(model_set_dir),
            "--thresholds",
            str(preset),
            "--segments",
            str(segments),
            "--detections",
            str(detections),
        ]
    )
    assert rc == 0, stderr
    assert "unknown species 'Myotis nattereri': ignored" in stderr

    with detections.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        got = list(reader)
    assert header == [
        "file",
        "species",
        "start_s",
        "end_s",
        "max_prob",
        "mean_prob",
        "n_segments",
        "threshold",
    ]
    expected = events_from_segments_csv(segments, PRESET["thresholds"])
    assert len(got) == len(expected) >= 10  # the band-energy test models fire on these files
    assert {row[1] for row in got} >= {"Pipistrellus kuhlii", "Nyctalus leisleri"}
    key = lambda e: (e[0], e[1], float(e[2]))  # noqa: E731
    for row, want in zip(sorted(got, key=key), sorted(expected, key=key), strict=True):
        file, name, start, end, max_p, mean_p, n, threshold = row
        assert (file, name, start, end, int(n)) == (*want[:4], want[6])
        assert float(max_p) == pytest.approx(want[4], abs=1e-6)
        assert float(mean_p) == pytest.approx(want[5], abs=1.5e-6)  # mean of 6-decimal values
        assert float(threshold) == want[7]
        assert len(start.split(".")[1]) == 3
        assert len(max_p.split(".")[1]) == 6
    # Some event spans more than one segment, so merging is exercised, not just copying rows.
    assert any(int(row[6]) > 1 for row in got)


def test_thresholds_preset_problems_are_one_clear_error(
    model_set_dir: Path, tmp_path: Path
) -> None:
    from audio_factory import chirp_train, write_wav

    wav = write_wav(tmp_path / "a.wav", chirp_train(384_000, 1.2), 384_000)
    bad = tmp_path / "bad.json"
    bad.write_text("{oops", encoding="utf-8")
    rc, _, stderr = run_cli(
        ["analyze", str(wav), "--models", str(model_set_dir), "--thresholds", str(bad)]
    )
    assert rc == 2
    assert stderr.strip().splitlines() == [
        f"error: {bad}: not valid JSON (line 1: Expecting property name enclosed in double quotes)"
    ]


def test_explicit_combine_wins_over_the_presets(model_set_dir: Path, tmp_path: Path) -> None:
    from audio_factory import chirp_train, write_wav

    wav = write_wav(tmp_path / "a.wav", chirp_train(384_000, 2.2, seed=5), 384_000)
    preset = tmp_path / "p.json"
    preset.write_text(json.dumps({"combine": "max", "thresholds": {}}), encoding="utf-8")
    outputs = {}
    for extra in ([], ["--combine", "min"]):
        out = tmp_path / f"d{len(extra)}.csv"
        segments = tmp_path / f"s{len(extra)}.csv"
        argv = ["analyze", str(wav), "--models", str(model_set_dir), "--thresholds", str(preset)]
        rc, _, stderr = run_cli(
            [*argv, *extra, "--detections", str(out), "--segments", str(segments)]
        )
        assert rc == 0, stderr
        outputs[len(extra)] = segments.read_text(encoding="utf-8")
    assert outputs[0] != outputs[2]  # max (the preset's) and min (explicit) differ
