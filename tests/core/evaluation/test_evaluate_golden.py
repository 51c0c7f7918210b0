"""`evaluate --json` against a golden file: the real commands (`analyze --project`, then
`evaluate`) on small synthetic recordings made here (never the shared real recordings, which may
be absent), the band-energy test models, and a BriteKit annotation file.

The golden file is written by the command itself. To regenerate it after a deliberate change of
the output::

    BSGBAT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/core/evaluation/test_evaluate_golden.py

then review the diff of ``tests/golden/evaluate/`` before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from audio_factory import chirp_train, guano_chunk, write_wav
from cli_runner import run_cli

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "evaluate" / "evaluation.json"
RATE = 384_000

PRESET = {
    "format": "bsgbat-gui thresholds",
    "version": 1,
    "combine": "mean",
    "thresholds": {"Pipistrellus pipistrellus": 0.4, "Myotis alcathoe": 0.12},
}

# BriteKit per-segment annotations, times in file time (the noctule file is x10 time-expanded:
# 1.0-1.1 s in the file is 0.10-0.11 s of real time). The pipistrelle calls at 0.2 s and 3.3 s
# make three positive windows (0-1.024, 2.5-3.524, 2.978-4.0), with the unannotated window at
# 0.5-1.524 as a strong false positive; the horseshoe annotation covers every window of its
# file. A bird (not a model species) and a recording the store has not analysed are reported,
# not fatal: both reach the JSON's "problems" and "not_analysed".
ANNOTATIONS = """recording,class,start_time,end_time
pip_quiet_pip,Pippip,0.2,0.3
pip_quiet_pip,Pippip,3.3,3.4
rhifer,Rhifer,0.5,1.6
noctule_te10,Nycnoc,1.0,1.1
noctule_te10,Tyto alba,1.0,1.1
absent,Pippip,0.1,0.2
"""


def make_night(folder: Path) -> None:
    """Pipistrelle-like calls / silence / calls; a horseshoe-like constant-frequency train; a ×10
    time-expanded noctule-like train shorter than one window."""
    folder.mkdir()
    pip = chirp_train(RATE, 1.5, f_start_hz=50_000, f_end_hz=44_000, call_s=0.006, seed=2)
    quiet = chirp_train(RATE, 1.5, amplitude=0.0, seed=1)
    pip_again = chirp_train(RATE, 1.0, f_start_hz=50_000, f_end_hz=44_000, call_s=0.006, seed=5)
    write_wav(folder / "pip_quiet_pip.wav", np.concatenate([pip, quiet, pip_again]), RATE)
    rhifer = chirp_train(RATE, 2.0, f_start_hz=82_000, f_end_hz=81_000, call_s=0.04, seed=3)
    write_wav(folder / "rhifer.wav", rhifer, RATE)
    te_rate = RATE // 10
    noctule = chirp_train(te_rate, 2.5, f_start_hz=2_200, f_end_hz=1_800, call_s=0.1, seed=4)
    write_wav(folder / "noctule_te10.wav", noctule, te_rate, extra_chunks=guano_chunk({"TE": "10"}))


def test_evaluate_json_matches_its_golden_file(model_set_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "night"
    make_night(folder)
    preset = tmp_path / "preset.json"
    preset.write_text(json.dumps(PRESET), encoding="utf-8")
    store = tmp_path / "review.sqlite"
    rc, _, stderr = run_cli(
        ["analyze", str(folder), "--models", str(model_set_dir), "--project", str(store)]
    )
    assert rc == 0, stderr
    annotations = tmp_path / "annotations.csv"
    annotations.write_text(ANNOTATIONS, encoding="utf-8")
    out = tmp_path / "evaluation.json"
    rc, stdout, stderr = run_cli(
        ["evaluate", str(store), "--annotations", str(annotations), "--thresholds", str(preset),
         "--json", str(out)]
    )  # fmt: skip
    assert rc == 0, stderr
    assert stdout.splitlines()[-1] == f"wrote {out}"
    assert "annotations.csv:6: unknown class 'Tyto alba'" in stderr
    assert "1 annotated recording(s) not analysed in this store: absent" in stderr
    # No normalisation is needed: the JSON names recordings by stem and annotation files by
    # name, never by their (temporary) folder.
    actual = out.read_text(encoding="utf-8")
    assert str(tmp_path) not in actual

    if os.environ.get("BSGBAT_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(actual, encoding="utf-8")
    # Compared exactly, as text. Unlike the probabilities of `analyze --segments` (see
    # tests/core/analysis/test_analyze_golden.py), nothing here carries the last bits of the
    # float32 model arithmetic: PR-AUC and ROC-AUC depend only on the order of the scores
    # (every positive is at least 0.01 from every negative of its species), precision
    # and recall are ratios of counts, and no probability is within 0.02 of its threshold; the
    # thresholds come from the preset. The same inputs give the same floats everywhere.
    assert actual == GOLDEN.read_text(encoding="utf-8")

    # And what the golden file says, read as a report would be.
    report = json.loads(actual)
    assert report["granularity"] == "segment"
    assert report["recordings"] == ["noctule_te10", "pip_quiet_pip", "rhifer"]
    assert report["not_analysed"] == ["absent"]
    by_species = {m["species"]: m for m in report["species"]}
    pippip = by_species["Pipistrellus pipistrellus"]
    assert (pippip["n_positive"], pippip["true_positives"], pippip["false_positives"]) == (3, 2, 1)
    assert pippip["threshold"] == pytest.approx(0.4)
    assert by_species["Rhinolophus ferrumequinum"]["roc_auc"] == pytest.approx(1.0)
    assert by_species["Myotis alcathoe"]["n_positive"] == 0
    assert by_species["Myotis alcathoe"]["false_positives"] == 3
