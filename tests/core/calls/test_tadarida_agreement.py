"""Our calls against Tadarida-D's on the Vigie-Chiro reference recording of Plecotus auritus
(time-expanded ×10; ../shared/data/recordings, skipped when absent).

Tadarida-D segments harmonics and echoes as calls of their own, overlapping in time; calls are
matched one to one by time, and by frequency where two overlap (``tadarida.match``). The
numbers printed here are the ones README.md ("Call measurement") reports.
"""

from __future__ import annotations

import numpy as np
import pytest
from real_recordings import RECORDINGS_DIR, real_recording
from tadarida import match, read_ta

from bsgbat_gui.core.audio.recording import probe_recording
from bsgbat_gui.core.calls.detect import measure_calls

pytestmark = pytest.mark.real_recordings

NAME = "Car370293-2016-Pass1-Z3-US-16611-0_20160629_234204_701"


def test_our_calls_agree_with_tadarida_d(capsys: pytest.CaptureFixture[str]) -> None:
    wav = real_recording(NAME)
    labels = RECORDINGS_DIR / "labels" / f"{NAME}.ta"
    if not labels.is_file():
        pytest.skip(f"Tadarida-D labels not available at {labels}")
    info = probe_recording(wav)
    assert info.time_expansion == 10
    theirs = read_ta(labels)
    ours = measure_calls(info)
    agreement = match(ours, theirs)
    with capsys.disabled():
        print(f"\nTadarida-D agreement on {NAME}: {agreement.summary()}")
    assert agreement.recall >= 0.9  # most of its calls found (measured: 44 of 46)
    assert agreement.precision >= 0.7  # and most of ours are among its calls
    assert agreement.fme_within_2khz >= 0.9
    assert np.median(np.abs(agreement.fme_diff_khz)) <= 0.5
    assert np.median(np.abs(agreement.dur_diff_ms)) <= 1.0
    assert abs(np.median(agreement.start_diff_ms)) <= 0.5
    assert abs(np.median(agreement.fmax_diff_khz)) <= 2.0
    assert abs(np.median(agreement.fmin_diff_khz)) <= 2.0
    # The pairs really are the same calls: starts within a few ms.
    assert np.percentile(np.abs(agreement.start_diff_ms), 90) <= 3.0
