"""Evaluation against annotations: metrics by hand and against scikit-learn, every annotation
format, units per granularity, and the shipped human call labels through ``evaluate``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from cli_runner import run_cli

from bsgbat_gui.core.analysis.analyse import RecordingAnalysis, windows_for
from bsgbat_gui.core.analysis.thresholds import ThresholdSettings
from bsgbat_gui.core.audio.recording import RecordingInfo
from bsgbat_gui.core.evaluation.annotations import AnnotationError, read_annotations
from bsgbat_gui.core.evaluation.metrics import (
    EvaluationError,
    average_precision,
    evaluate,
    evaluation_units,
    roc_auc,
)
from bsgbat_gui.core.species import SPECIES

LABELS = tuple(s.scientific_name for s in SPECIES)
PIPPIP = LABELS.index("Pipistrellus pipistrellus")
NYCNOC = LABELS.index("Nyctalus noctula")


def analysis(name: str, seconds: float, peaks: dict[int, list[tuple[int, float]]],
             time_expansion: float = 1.0) -> RecordingAnalysis:  # fmt: skip
    rate = 384_000
    info = RecordingInfo(
        path=Path(f"/survey/{name}.wav"), header_rate_hz=round(rate / time_expansion), channels=1,
        header_frames=round(seconds * rate), format="WAV", subtype="PCM_16",
        time_expansion=time_expansion, time_expansion_source="none",
    )  # fmt: skip
    windows = windows_for(info)
    p = np.full((len(windows), len(LABELS)), 0.01)
    for label, values in peaks.items():
        for segment, value in values:
            p[segment, label] = value
    logits = np.log(p / (1 - p)).astype(np.float32)
    return RecordingAnalysis(info, tuple(windows), np.repeat(logits[None], 6, 0), LABELS,
                             tuple("abcdef"))  # fmt: skip


def test_metrics_by_hand() -> None:
    scores, truth = np.array([0.9, 0.8, 0.7, 0.6]), np.array([True, False, True, False])
    assert average_precision(scores, truth) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert roc_auc(scores, truth) == pytest.approx(3 / 4)  # 0.7 < 0.8 is the one lost pair
    tied = np.array([0.5, 0.5, 0.2])
    assert average_precision(tied, np.array([True, False, False])) == pytest.approx(0.5)
    assert roc_auc(tied, np.array([True, False, False])) == pytest.approx(0.75)  # tie = half
    assert average_precision(scores, np.zeros(4, bool)) is None
    assert roc_auc(scores, np.ones(4, bool)) is None


def test_metrics_agree_with_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(5, 200))
        scores = np.round(rng.random(n), int(rng.integers(1, 4)))  # with ties
        truth = rng.random(n) < rng.uniform(0.05, 0.6)
        if truth.all() or not truth.any():
            continue
        assert average_precision(scores, truth) == pytest.approx(
            metrics.average_precision_score(truth, scores), abs=1e-12
        )
        assert roc_auc(scores, truth) == pytest.approx(
            metrics.roc_auc_score(truth, scores), abs=1e-12
        )


def test_every_annotation_format_is_read(tmp_path: Path) -> None:
    segment = tmp_path / "segments.csv"
    segment.write_text(
        "recording,class,start_time,end_time\n"
        "a,Pippip,0.10,0.20\n"  # a code
        "a,Nyctalus noctula,1.50,1.60\n"  # a scientific name
        "b,Common pipistrelle,0.3,0.4\n"  # an English name
        "b,Tyto alba,0.3,0.4\n"  # not a bat
        "c,Pippip,x,0.4\n"
    )
    found = read_annotations([segment], LABELS)
    assert found.granularity == "segment"
    assert found.recordings == {"a", "b", "c"}
    assert [(a.recording, a.species) for a in found.annotations] == [
        ("a", LABELS[PIPPIP]), ("a", LABELS[NYCNOC]), ("b", LABELS[PIPPIP]),
    ]  # fmt: skip
    assert len(found.problems) == 2
    assert "segments.csv:5" in found.problems[0]
    assert "Tyto alba" in found.problems[0]
    assert "segments.csv:6" in found.problems[1]
    assert "'x'" in found.problems[1]

    block = tmp_path / "blocks.csv"
    block.write_text('recording,block,classes\na,1,"Pippip,Nycnoc"\na,2,\nd,0,Pippip\n')
    blocks = read_annotations([block], LABELS)
    assert blocks.granularity == "block"
    assert blocks.recordings == {"a"}
    assert [(a.block, a.species) for a in blocks.annotations] == [
        (1, LABELS[PIPPIP]), (1, LABELS[NYCNOC]),
    ]  # fmt: skip
    assert "block '0'" in blocks.problems[0]

    per_recording = tmp_path / "recordings.csv"
    per_recording.write_text("recording,classes\nx.wav,PIPPIP\ny,\n")
    recordings = read_annotations([per_recording], LABELS)
    assert recordings.recordings == {"x", "y"}
    assert len(recordings.annotations) == 1

    # Raven: the recording from the table's name; bsgbat-gui's own export keeps only verified rows
    raven = tmp_path / "night_001.Table.1.selections.txt"
    raven.write_text(
        "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tSpecies\tStatus\n"
        "1\tSpectrogram 1\t1\t0.5\t1.5\tPipistrellus pipistrellus\tconfirmed\n"
        "2\tSpectrogram 1\t1\t2.0\t3.0\tNyctalus noctula\trejected\n"
    )
    tables = read_annotations([raven], LABELS)
    assert tables.recordings == {"night_001"}
    assert [(a.species, a.start_s) for a in tables.annotations] == [(LABELS[PIPPIP], 0.5)]

    both = read_annotations([segment, block], LABELS)
    assert both.granularity == "block"  # the coarsest decides
    not_annotations = tmp_path / "other.csv"
    not_annotations.write_text("a,b\n1,2\n")
    with pytest.raises(AnnotationError, match="not a BriteKit annotation CSV"):
        read_annotations([not_annotations], LABELS)


def test_units_per_granularity_and_time_expansion(tmp_path: Path) -> None:
    # 3 s recording: windows start at 0, 0.5, 1.0, 1.5 (+ tail); a call at 1.2 s real time.
    a = analysis("a", 3.0, {PIPPIP: [(2, 0.9), (3, 0.8)], NYCNOC: [(0, 0.7)]})
    # Time-expanded x10: the annotation is in file time (12 s = 1.2 s real).
    te = analysis("te", 3.0, {PIPPIP: [(2, 0.6)]}, time_expansion=10.0)
    file = tmp_path / "ann.csv"
    file.write_text("recording,class,start_time,end_time\na,Pippip,1.2,1.21\nte,Pippip,12.0,12.1\n")
    found = read_annotations([file], LABELS)
    units = evaluation_units([a, te], found, "segment")
    windows = list(a.windows)
    expected = [w.start_s < 1.21 and w.end_s > 1.2 for w in windows]
    n = len(windows)
    assert units.truth[:n, PIPPIP].tolist() == expected
    assert units.truth[n:, PIPPIP].tolist() == expected  # same windows in real time
    assert not units.truth[:, NYCNOC].any()
    recording = evaluation_units([a, te], found, "recording")
    assert recording.truth[:, PIPPIP].tolist() == [True, True]
    assert recording.scores[:, PIPPIP] == pytest.approx([0.9, 0.6])
    blocks = evaluation_units([a], found, "block", block_s=1.0)
    assert blocks.truth[:, PIPPIP].tolist() == [False, True, False]
    assert blocks.scores[1, PIPPIP] == pytest.approx(0.9)  # windows overlapping 1 to 2 s
    with pytest.raises(EvaluationError, match="cannot be evaluated per segment"):
        evaluation_units([a], read_annotations([_per_recording(tmp_path)], LABELS), "segment")

    result = evaluate([a, te], found, ThresholdSettings({LABELS[PIPPIP]: 0.7}), "recording")
    pippip = next(m for m in result.species if m.species == LABELS[PIPPIP])
    assert (pippip.true_positives, pippip.false_negatives, pippip.recall) == (1, 1, 0.5)
    assert pippip.precision == 1.0
    assert pippip.roc_auc is None


def _per_recording(tmp_path: Path) -> Path:
    path = tmp_path / "per_recording.csv"
    path.write_text("recording,classes\na,Pippip\n")
    return path


# -- the shipped human call labels, through the command ------------------------------------------

LABELLED = "Car370293-2016-Pass1-Z3-US-16611-0_20160629_234204_701"


@pytest.mark.real_recordings
def test_evaluate_on_the_human_call_labels_matches_an_independent_computation(
    recordings_dir: Path, model_set_dir: Path, tmp_path: Path
) -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    calls_csv = recordings_dir / "labels" / f"{LABELLED}.calls.csv"
    with calls_csv.open(newline="") as f:
        calls = list(csv.DictReader(f))
    # The labels as a BriteKit per-segment annotation file, in file time (x10 time expansion).
    annotations = tmp_path / "annotations.csv"
    with annotations.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["recording", "class", "start_time", "end_time"])
        for call in calls:
            writer.writerow([LABELLED, call["species"], call["start_s_file_header"],
                             call["end_s_file_header"]])  # fmt: skip
    store, segments = tmp_path / "review.sqlite", tmp_path / "segments.csv"
    rc, _, stderr = run_cli(
        ["analyze", str(recordings_dir / f"{LABELLED}.wav"), "--models", str(model_set_dir),
         "--project", str(store), "--segments", str(segments)]
    )  # fmt: skip
    assert rc == 0, stderr
    out = tmp_path / "evaluation.json"
    rc, stdout, stderr = run_cli(
        ["evaluate", str(store), "--annotations", str(annotations), "--json", str(out)]
    )
    assert rc == 0, stderr
    assert "Plecotus auritus" in stdout
    report = json.loads(out.read_text())
    plecotus = next(m for m in report["species"] if m["species"] == "Plecotus auritus")

    # Independently: the --segments probabilities, and truth from the labels' *real-time* columns.
    with segments.open(newline="") as f:
        rows = list(csv.DictReader(f))
    scores = np.array([float(r["Plecotus auritus"]) for r in rows])
    truth = np.array([
        any(float(c["start_s_true"]) < float(r["end_s"]) and float(c["end_s_true"])
            > float(r["start_s"]) for c in calls)
        for r in rows
    ])  # fmt: skip
    assert plecotus["n_units"] == len(rows)
    assert plecotus["n_positive"] == int(truth.sum()) > 0
    assert plecotus["pr_auc"] == pytest.approx(
        metrics.average_precision_score(truth, scores), abs=1e-4
    )
    if not truth.all():
        assert plecotus["roc_auc"] == pytest.approx(metrics.roc_auc_score(truth, scores), abs=1e-4)
    detected = scores >= 0.5
    assert plecotus["true_positives"] == int((detected & truth).sum())
    assert plecotus["false_positives"] == int((detected & ~truth).sum())
    assert plecotus["recall"] == pytest.approx((detected & truth).sum() / truth.sum())
    # Every other species has no annotation: its units are all negative.
    others = [m for m in report["species"] if m["species"] != "Plecotus auritus"]
    assert all(m["n_positive"] == 0 and m["pr_auc"] is None for m in others)


def test_evaluate_says_what_is_wrong_in_one_line(tmp_path: Path) -> None:
    from bsgbat_gui.core.review.store import ReviewStore

    rc, _, stderr = run_cli(["evaluate", str(tmp_path / "none.sqlite"), "--annotations", "x"])
    assert rc == 2
    assert "no such review store" in stderr
    store = tmp_path / "review.sqlite"
    ReviewStore.open(store).close()
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("file,species\na.wav,Pippip\n")
    rc, _, stderr = run_cli(["evaluate", str(store), "--annotations", str(wrong)])
    assert rc == 2
    assert stderr.count("error:") == 1
    assert "not a BriteKit annotation CSV" in stderr
    fine = tmp_path / "fine.csv"
    fine.write_text("recording,classes\na,Pippip\n")
    rc, _, stderr = run_cli(["evaluate", str(store), "--annotations", str(fine)])
    assert rc == 2
    assert "no analysed recording is annotated" in stderr
    rc, _, stderr = run_cli(["evaluate", str(store), "--annotations", str(tmp_path / "gone.csv")])
    assert rc == 2
    assert "cannot be read" in stderr
