"""The linear-frequency display spectrogram: true kHz and seconds, max-pooled, floors not -inf."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import numpy as np
import pytest
from audio_factory import write_wav
from real_recordings import RECORDINGS_DIR, real_recording

from bsgbat_gui.core.audio.linear_spectrogram import (
    LINEAR_DB_FLOOR,
    LinearSpectrogram,
    linear_spectrogram,
    window_length,
)
from bsgbat_gui.core.audio.recording import probe_recording

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.real_recordings


def whole(path: Path, max_columns: int = 1500) -> LinearSpectrogram:
    info = probe_recording(path)
    spec = linear_spectrogram(info, 0.0, info.duration_s, max_columns=max_columns)
    assert spec is not None
    return spec


def peak_khz(spec: LinearSpectrogram, low_khz: float = 9.0) -> float:
    """The frequency of the loudest cell above ``low_khz`` (below it: wind, handling noise)."""
    band = spec.freq_khz >= low_khz
    profile = spec.db[:, band].max(axis=0)
    return float(spec.freq_khz[band][np.argmax(profile)])


def test_pipistrelle_calls_peak_between_45_and_60_khz() -> None:
    spec = whole(real_recording("M500"))
    assert 45.0 <= peak_khz(spec) <= 60.0
    assert spec.db.dtype == np.float32
    assert spec.db.shape[0] <= 1500
    assert spec.db.shape[1] == window_length(384_000) + 1  # zero-padded twice: 0..Nyquist
    assert spec.end_s == pytest.approx(2.0, abs=spec.seconds_per_column)


def test_time_expanded_file_is_in_true_seconds_and_true_khz() -> None:
    path = real_recording("Car370293")
    info = probe_recording(path)
    assert info.header_rate_hz == 38_400
    spec = whole(path)
    assert spec.nyquist_khz == 192.0
    assert spec.freq_khz[-1] == pytest.approx(192.0)
    assert spec.start_s <= 0.0
    assert spec.end_s == pytest.approx(4.099, abs=spec.seconds_per_column + 1e-3)
    # Each labelled call (true seconds, true kHz, by a human) peaks where it is labelled to, or
    # where a call overlapping it does (a harmonic is labelled as a call of its own). Searched
    # 12-60 kHz: above, an electrical whine at 63-78 kHz outshines the faintest echoes.
    labels = RECORDINGS_DIR / "labels" / f"{path.stem}.calls.csv"
    with labels.open(newline="") as f:
        calls = [row for row in csv.DictReader(f) if row["labeller_confidence"] == "3"]
    assert len(calls) > 10
    fine = linear_spectrogram(info, 0.0, info.duration_s, max_columns=20_000)
    assert fine is not None
    band = (fine.freq_khz >= 12.0) & (fine.freq_khz <= 60.0)
    matched = 0
    for call in calls:
        t0, t1 = float(call["start_s_true"]), float(call["end_s_true"])
        first = int((t0 - fine.start_s) / fine.seconds_per_column)
        stop = int(np.ceil((t1 - fine.start_s) / fine.seconds_per_column))
        peak = fine.freq_khz[band][np.argmax(fine.db[first:stop, band].max(axis=0))]
        labelled = [
            float(other["peak_khz_true"])
            for other in calls
            if float(other["start_s_true"]) < t1 and float(other["end_s_true"]) > t0
        ]
        matched += any(abs(peak - k) <= 3.0 for k in labelled)
    assert matched >= 0.9 * len(calls)


def test_144_khz_recording_stops_at_72_khz() -> None:
    spec = whole(real_recording("Kuhls"))
    assert spec.nyquist_khz == 72.0
    assert spec.freq_khz[-1] == pytest.approx(72.0)
    assert spec.db.shape[1] == window_length(144_000) + 1
    assert spec.end_s == pytest.approx(1.829, abs=spec.seconds_per_column + 1e-3)
    # Kuhl's pipistrelle: FM-QCF calls ending near 38-40 kHz.
    assert 35.0 <= peak_khz(spec) <= 45.0


def test_digital_zeros_give_the_floor_not_minus_infinity() -> None:
    # 62 % of this file's samples are exact zeros; pytest fails on any numpy warning.
    spec = whole(real_recording("Nyctalus"))
    assert np.isfinite(spec.db).all()
    assert spec.db.min() == LINEAR_DB_FLOOR
    low, high = spec.auto_levels()
    assert LINEAR_DB_FLOOR + 10 < low < high  # the silent cells do not drag the levels down
    assert 20.0 <= peak_khz(spec) <= 30.0  # Leisler's noctule, ~24 kHz


def test_pooled_columns_are_the_maximum_of_the_unpooled_frames() -> None:
    info = probe_recording(real_recording("M500"))
    unpooled = linear_spectrogram(info, 0.0, 2.0, max_columns=6001)
    pooled = linear_spectrogram(info, 0.0, 2.0, max_columns=300)
    assert unpooled is not None
    assert pooled is not None
    assert unpooled.frames_per_column == 1
    k = pooled.frames_per_column
    assert k > 1
    assert pooled.start_s == unpooled.start_s
    assert pooled.seconds_per_column == pytest.approx(k * unpooled.seconds_per_column)
    assert pooled.db.max() == unpooled.db.max()
    n = unpooled.db.shape[0] // k
    grouped = unpooled.db[: n * k].reshape(n, k, -1).max(axis=1)
    np.testing.assert_array_equal(pooled.db[:n], grouped)


# 400 columns: many columns in one block of frames; 40: each column spans several blocks.
@pytest.mark.parametrize("max_columns", [400, 40])
def test_a_2_ms_call_stays_visible_when_zoomed_out(tmp_path: Path, max_columns: int) -> None:
    rate = 384_000
    rng = np.random.default_rng(0)
    x = rng.standard_normal(rate * 20) * 0.001
    t = np.arange(int(0.002 * rate)) / rate
    start = int(12.345 * rate)
    x[start : start + len(t)] += 0.3 * np.sin(2 * np.pi * 50_000 * t)
    path = write_wav(tmp_path / "one-call.wav", x, rate)
    info = probe_recording(path)
    spec = linear_spectrogram(info, 0.0, 20.0, max_columns=max_columns)
    assert spec is not None
    assert spec.frames_per_column >= 60_000 // max_columns
    column = int((12.346 - spec.start_s) / spec.seconds_per_column)
    row = int(np.argmax(spec.db[column]))
    assert spec.freq_khz[row] == pytest.approx(50.0, abs=1.0)
    assert spec.db[column, row] > np.median(spec.db[:, row]) + 30
    assert spec.value_at(12.346, 50.0) == spec.db[column, round(50.0 / spec.bin_khz)]


def test_a_span_is_computed_on_the_frame_grid_and_can_stop() -> None:
    info = probe_recording(real_recording("M500"))
    span = linear_spectrogram(info, 0.5, 1.0, max_columns=4000)
    assert span is not None
    assert span.start_s <= 0.5 < span.start_s + span.seconds_per_column
    assert span.end_s >= 1.0
    # Zoomed in, frames are finer than half a window (down to an eighth).
    assert span.seconds_per_column < window_length(384_000) / 2 / 384_000
    assert linear_spectrogram(info, 0.0, 2.0, should_stop=lambda: True) is None
