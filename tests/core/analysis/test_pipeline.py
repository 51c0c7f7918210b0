"""The pipelined analysis: the same logits as one file at a time, full batches across short
files, failures isolated, and the producer thread never left behind."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np
import pytest
from audio_factory import chirp_train, write_wav

from bsgbat_gui.core.analysis.analyse import (
    RecordingAnalysed,
    RecordingFailed,
    RecordingStarted,
    SegmentsAnalysed,
    analyse_recording,
)
from bsgbat_gui.core.analysis.pipeline import analyse_recordings
from bsgbat_gui.core.audio.recording import probe_recording
from bsgbat_gui.core.models.ensemble import Ensemble
from bsgbat_gui.core.models.locate import locate_model_set

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def ensemble(model_set_dir: Path) -> Ensemble:
    return Ensemble(locate_model_set(model_set_dir))


@pytest.fixture
def night(tmp_path: Path) -> list[Path]:
    """Short triggered files of mixed lengths and rates, and a corrupt one in the middle."""
    paths = []
    for i, (seconds, rate) in enumerate([(1.5, 384_000), (0.4, 250_000), (3.0, 384_000),
                                         (2.2, 500_000), (1.0, 384_000)]):  # fmt: skip
        paths.append(write_wav(tmp_path / f"{i}.wav", chirp_train(rate, seconds, seed=i), rate))
    bad = tmp_path / "2b-corrupt.wav"
    bad.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    paths.insert(3, bad)
    return paths


def test_same_logits_as_one_file_at_a_time_with_full_batches(
    ensemble: Ensemble, night: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_sizes: list[int] = []
    real_run = Ensemble.run

    def counting(self: Ensemble, batch: np.ndarray) -> np.ndarray:
        batch_sizes.append(len(batch))
        return real_run(self, batch)

    monkeypatch.setattr(Ensemble, "run", counting)
    events = list(analyse_recordings(night, ensemble, batch_size=4))
    analysed = {
        e.analysis.info.path: e.analysis for e in events if isinstance(e, RecordingAnalysed)
    }
    failed = [e for e in events if isinstance(e, RecordingFailed)]
    assert [f.path for f in failed] == [night[3]]
    assert set(analysed) == set(night) - {night[3]}
    n_windows = sum(len(a.windows) for a in analysed.values())
    # Windows of consecutive files share batches: every batch but the last is full.
    assert sum(batch_sizes) == n_windows
    assert all(b == 4 for b in batch_sizes[:-1])
    monkeypatch.setattr(Ensemble, "run", real_run)
    for path, analysis in analysed.items():
        alone = next(e for e in analyse_recording(probe_recording(path), ensemble)
                 if isinstance(e, RecordingAnalysed)).analysis  # fmt: skip
        # Equal up to float rounding (ONNX Runtime's sums depend on the batch's make-up).
        np.testing.assert_allclose(analysis.per_model_logits, alone.per_model_logits, atol=1e-5)
    # Events come in file order; progress reaches each file's total.
    started = [e.index for e in events if isinstance(e, RecordingStarted)]
    assert started == sorted(started)
    last_progress = {}
    for e in events:
        if isinstance(e, SegmentsAnalysed):
            last_progress[e.index] = (e.done, e.total)
    assert all(done == total for done, total in last_progress.values())


def test_closing_early_stops_the_producer(ensemble: Ensemble, night: list[Path]) -> None:
    before = {t for t in threading.enumerate() if t.name == "analysis-inputs"}
    events = analyse_recordings(night, ensemble, batch_size=2)
    next(events)
    events.close()
    running = {t for t in threading.enumerate() if t.name == "analysis-inputs"} - before
    assert not any(t.is_alive() for t in running)


def test_should_stop_ends_the_run(ensemble: Ensemble, night: list[Path]) -> None:
    asked = []

    def stop_after_three() -> bool:
        asked.append(1)
        return len(asked) > 3

    events = list(analyse_recordings(night, ensemble, batch_size=2, should_stop=stop_after_three))
    assert len(events) == 3
    assert not any(t.is_alive() for t in threading.enumerate() if t.name == "analysis-inputs")
