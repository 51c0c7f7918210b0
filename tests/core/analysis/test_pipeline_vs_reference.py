"""`analyze --segments` gives the card's reference probabilities (≤ 1e-4) on every grid segment.

The reference is the card's snippet (bsgbat_gui/benchmark/reference.py: whole-file librosa + the
models' mean logits + sigmoid) on the same files and the same models.
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import numpy as np
import pytest
from audio_factory import chirp_train, guano_chunk, write_wav
from model_factory import LABELS
from real_recordings import real_recording_paths

from bsgbat_gui.__main__ import main
from bsgbat_gui.benchmark.reference import (
    ensemble_probabilities,
    reference_sessions,
    wav_to_segments,
)
from bsgbat_gui.core.audio.recording import probe_recording
from bsgbat_gui.core.model_card import MODEL_FILENAMES

if TYPE_CHECKING:
    from pathlib import Path

TOLERANCE = 1e-4


def run_analyze_segments(
    paths: list[Path], models: Path, out: Path, *extra: str
) -> dict[str, list[dict]]:
    rc = main(
        ["analyze", *map(str, paths), "--models", str(models), "--segments", str(out), *extra]
    )
    assert rc == 0
    rows: dict[str, list[dict]] = {}
    with out.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows.setdefault(row["file"], []).append(row)
    return rows


def assert_matches_reference(path: Path, rows: list[dict], models: Path) -> None:
    info = probe_recording(path)
    ref_segments = wav_to_segments(
        str(path), true_rate_hz=info.true_rate_hz if info.is_time_expanded else None
    )
    grid_rows = [r for r in rows if r["flags"] == ""]
    assert len(grid_rows) == len(ref_segments)
    ref = ensemble_probabilities(
        ref_segments, reference_sessions([models / n for n in MODEL_FILENAMES])
    )
    ours = np.array([[float(r[label]) for label in LABELS] for r in grid_rows])
    # 6-decimal CSV rounding is 5e-7, well inside the tolerance.
    assert np.abs(ours - ref).max() <= TOLERANCE
    for i, row in enumerate(grid_rows):
        assert float(row["start_s"]) == pytest.approx(i * 0.5, abs=1e-3)


@pytest.mark.real_recordings
def test_real_recordings_match_the_card(
    recordings_dir: Path, model_set_dir: Path, tmp_path: Path
) -> None:
    paths = real_recording_paths()
    rows = run_analyze_segments(paths, model_set_dir, tmp_path / "segments.csv")
    compared = 0
    for path in paths:
        file_rows = rows[str(path)]
        info = probe_recording(path)
        if info.duration_s < 1.024:
            # The card's code cannot run a clip shorter than one window (its segment would have
            # fewer than 512 frames); ours gives one padded window.
            assert [r["flags"] for r in file_rows] == ["padded"]
            continue
        assert_matches_reference(path, file_rows, model_set_dir)
        compared += 1
    assert compared >= 4
    # Tail windows are present and flagged where the grid misses the end.
    flags = {r["flags"] for file_rows in rows.values() for r in file_rows}
    assert {"", "tail", "padded"} <= flags


def test_synthetic_recordings_match_the_card(model_set_dir: Path, tmp_path: Path) -> None:
    files = [
        write_wav(tmp_path / "mono384.wav", chirp_train(384_000, 3.3, seed=1), 384_000),
        write_wav(
            tmp_path / "stereo250.wav",
            np.stack([chirp_train(250_000, 2.2, seed=2), chirp_train(250_000, 2.2, seed=3)], 1),
            250_000,
        ),
        write_wav(
            tmp_path / "pcm24_500k.wav",
            chirp_train(500_000, 1.9, seed=4),
            500_000,
            subtype="PCM_24",
        ),
        write_wav(
            tmp_path / "float_300k.wav", chirp_train(300_000, 1.6, seed=5), 300_000, subtype="FLOAT"
        ),
    ]
    flac = tmp_path / "flac384.flac"
    import soundfile

    soundfile.write(flac, chirp_train(384_000, 2.5, seed=6), 384_000, subtype="PCM_16")
    files.append(flac)
    rows = run_analyze_segments(files, model_set_dir, tmp_path / "segments.csv")
    for path in files:
        assert_matches_reference(path, rows[str(path)], model_set_dir)


def test_time_expanded_guano_file_matches_the_card_at_its_true_rate(
    model_set_dir: Path, tmp_path: Path
) -> None:
    # 3.1 s at 384 kHz stored time-expanded x10: header 38.4 kHz, 31 s of header time.
    path = write_wav(
        tmp_path / "te10.wav",
        chirp_train(384_000, 3.1, seed=7),
        38_400,
        extra_chunks=guano_chunk({"TE": "10"}),
    )
    rows = run_analyze_segments([path], model_set_dir, tmp_path / "segments.csv")[str(path)]
    assert float(rows[-1]["end_s"]) == pytest.approx(3.1, abs=2e-3)  # real seconds
    assert_matches_reference(path, rows, model_set_dir)


def test_segments_csv_columns_are_exact(model_set_dir: Path, tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", chirp_train(384_000, 1.7), 384_000)
    out = tmp_path / "s.csv"
    run_analyze_segments([path], model_set_dir, out)
    header, first = out.read_text(encoding="utf-8").splitlines()[:2]
    assert header.split(",") == ["file", "segment", "start_s", "end_s", "flags", *LABELS]
    cells = first.split(",")
    assert cells[:5] == [str(path), "0", "0.000", "1.024", ""]
    assert all(len(c.split(".")[1]) == 6 for c in cells[5:])
