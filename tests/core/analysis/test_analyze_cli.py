"""`bsgbat-gui analyze` on a folder mixing good recordings with every kind of bad file."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from audio_factory import chirp_train, write_wav
from bad_inputs import ERROR, WARNING, build_corpus

from bsgbat_gui.__main__ import main
from bsgbat_gui.core.analysis.analyse import RecordingAnalysed, SegmentsAnalysed
from bsgbat_gui.core.analysis.pipeline import analyse_recordings
from bsgbat_gui.core.models.ensemble import Ensemble
from bsgbat_gui.core.models.locate import read_model_set


def test_the_bad_input_corpus_gets_one_line_each_and_the_good_files_are_analysed(
    model_set_dir: Path, tmp_path: Path
) -> None:
    """Every kind of bad input (tests/bad_inputs.py): one clear line each, no traceback, no raw
    numpy warning; the good and the usable ones are in the CSV."""
    folder = tmp_path / "night"
    corpus = build_corpus(folder)
    out = tmp_path / "segments.csv"
    stdout, stderr = io.StringIO(), io.StringIO()
    from bsgbat_gui.__main__ import _subcommand_parser

    args = _subcommand_parser().parse_args(
        ["analyze", str(folder), "--models", str(model_set_dir), "--segments", str(out)]
    )
    rc = args.run(args, stdout=stdout, stderr=stderr)
    assert rc == 1
    text = stderr.getvalue()
    assert "Traceback" not in text
    assert "RuntimeWarning" not in text
    assert "internal error" not in text
    lines = text.splitlines()
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
    with out.open(encoding="utf-8", newline="") as f:
        analysed = {Path(row["file"]).name for row in csv.DictReader(f)}
    expected = {e.name.replace("\\n", "\n") for e in corpus if e.analysed}
    assert analysed == expected
    n_bad = sum(not e.analysed for e in corpus)
    assert lines[-1] == f"{len(expected)} analysed, {n_bad} failed"


def test_exit_2_for_a_model_set_error(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", chirp_train(384_000, 1.0), 384_000)
    assert main(["analyze", str(path), "--models", str(tmp_path / "no-models")]) == 2


def test_exit_2_when_nothing_to_analyse(tmp_path: Path, model_set_dir: Path) -> None:
    assert main(["analyze", str(tmp_path), "--models", str(model_set_dir)]) == 2


def test_summary_without_segments_names_species_above_half(
    tmp_path: Path, model_set_dir: Path, capsys
) -> None:
    path = write_wav(
        tmp_path / "rhifer-like.wav",
        chirp_train(384_000, 2.0, f_start_hz=82_000, f_end_hz=81_000, call_s=0.04),
        384_000,
    )
    assert main(["analyze", str(path), "--models", str(model_set_dir)]) == 0
    assert "Rhinolophus ferrumequinum" in capsys.readouterr().out


def test_cancellation_stops_between_batches(tmp_path: Path, model_set_dir: Path) -> None:
    path = write_wav(tmp_path / "long.wav", chirp_train(384_000, 12.0), 384_000)
    ensemble = Ensemble(read_model_set(model_set_dir))
    seen: list[object] = []

    def should_stop() -> bool:
        return any(isinstance(e, SegmentsAnalysed) for e in seen)

    seen.extend(analyse_recordings([path], ensemble, batch_size=4, should_stop=should_stop))
    progress = [e for e in seen if isinstance(e, SegmentsAnalysed)]
    assert len(progress) == 1
    assert progress[0].done == 4 < progress[0].total
    assert not any(isinstance(e, RecordingAnalysed) for e in seen)


def test_console_script_runs_as_a_module(tmp_path: Path, model_set_dir: Path) -> None:
    path = write_wav(tmp_path / "a.wav", chirp_train(384_000, 1.2), 384_000)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bsgbat_gui",
            "analyze",
            str(path),
            "--models",
            str(model_set_dir),
            "--segments",
            str(tmp_path / "s.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "s.csv").read_text().count("\n") == 1 + 2  # header + 1 grid window + tail


def test_interrupted_run_leaves_no_partial_csv(
    tmp_path: Path, model_set_dir: Path, monkeypatch
) -> None:
    paths = [
        write_wav(tmp_path / f"{i}.wav", chirp_train(384_000, 10.0, seed=i), 384_000)
        for i in range(3)
    ]
    out = tmp_path / "s.csv"
    out.write_text("previous results\n")
    from bsgbat_gui.core.models.ensemble import Ensemble

    real = Ensemble.run
    calls = []

    def interrupting(self, batch):
        calls.append(len(batch))
        if len(calls) == 2:  # Ctrl+C while the models run, part-way through the files
            raise KeyboardInterrupt
        return real(self, batch)

    monkeypatch.setattr(Ensemble, "run", interrupting)
    rc = main(["analyze", *map(str, paths), "--models", str(model_set_dir), "--segments", str(out)])
    assert rc == 130
    assert out.read_text() == "previous results\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".s.csv")] == []


def test_long_recordings_are_read_in_bounded_blocks(
    tmp_path: Path, model_set_dir: Path, monkeypatch
) -> None:
    """Memory does not grow with the recording: no read is larger than one batch's span."""
    from bsgbat_gui.core.audio import recording as audio

    path = write_wav(tmp_path / "long.wav", chirp_train(250_000, 40.0), 250_000)
    largest = [0]
    real_read = audio.ModelRateSignal.read_true_rate

    def recording_read(self, start: int, stop: int):
        largest[0] = max(largest[0], stop - start)
        return real_read(self, start, stop)

    monkeypatch.setattr(audio.ModelRateSignal, "read_true_rate", recording_read)
    ensemble = Ensemble(read_model_set(model_set_dir))
    events = list(analyse_recordings([path], ensemble, batch_size=4))
    assert isinstance(events[-1], RecordingAnalysed)
    # 4 windows span 3 * 0.5 s + 1.024 s = 2.524 s (+ filter margins) of a 40 s file.
    assert 0 < largest[0] <= 2.6 * 250_000
