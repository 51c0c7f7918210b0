"""Call detection and parameters on synthetic recordings of known truth: an FM sweep, a
constant-frequency call and a faint short sweep in white noise, at 384, 250 and 144 kHz; a call
across a block boundary; digital-zero gaps; the band at the Nyquist frequency."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
from synthetic_calls import NOISE_RMS, TrueCall, render, write

from bsgbat_gui.core.audio.recording import probe_recording
from bsgbat_gui.core.calls.detect import band_problem, iter_calls, measure_calls, spectral_grid
from bsgbat_gui.core.calls.settings import CallSettings

if TYPE_CHECKING:
    from pathlib import Path

    from bsgbat_gui.core.calls.parameters import CallTable

FM = TrueCall(0.1, 0.004, 70_000, 35_000)
QCF = TrueCall(0.3, 0.010, 45_000, 45_000)
FAINT = TrueCall(0.5, 0.002, 60_000, 50_000, amplitude=0.02)
CALLS = [FM, QCF, FAINT]


def _measure(
    tmp_path: Path, calls: list[TrueCall], rate_hz: int, seconds: float, **settings: float
) -> CallTable:
    path = write(tmp_path / f"calls_{rate_hz}.wav", render(calls, rate_hz, seconds), rate_hz)
    return measure_calls(probe_recording(path), CallSettings(**settings))


def _nearest(table: CallTable, start_s: float) -> int:
    return int(np.argmin(np.abs(table.start_s - start_s)))


@pytest.mark.parametrize("rate_hz", [384_000, 250_000, 144_000])
def test_known_calls_are_found_once_with_their_parameters(tmp_path: Path, rate_hz: int) -> None:
    table = _measure(tmp_path, CALLS, rate_hz, 0.7)
    assert len(table) == len(CALLS)  # nothing from the noise, no call split in two
    hop_ms = spectral_grid(CallSettings(), rate_hz).hop_s * 1000
    for truth in CALLS:
        call = table.call(_nearest(table, truth.start_s))
        # The window (0.667 ms) smears a call by up to half a window at each end; bridging
        # (0.8 ms) may attach a noise cell just after it.
        assert abs(call.start_s - truth.start_s) * 1000 <= 0.4 + hop_ms
        assert 0 <= call.duration_ms - truth.duration_s * 1000 <= 1.5
        assert call.end_s == pytest.approx(call.start_s + call.duration_ms / 1000)
        f_hi, f_lo = max(truth.f_start_hz, truth.f_end_hz), min(truth.f_start_hz, truth.f_end_hz)
        nyquist_khz = rate_hz / 2000
        # A 0.667 ms Hann window's main lobe is ±3 kHz wide at the 20 dB below the peak that
        # defines Fmax and Fmin: a pure tone spans 6 kHz.
        assert call.fmax_khz == pytest.approx(min(f_hi / 1000 + 3, nyquist_khz), abs=1.5)
        assert call.fmin_khz == pytest.approx(f_lo / 1000 - 3, abs=1.5)
        assert call.bandwidth_khz == pytest.approx(call.fmax_khz - call.fmin_khz)
        assert f_lo / 1000 - 1 <= call.fme_khz <= f_hi / 1000 + 1
        assert call.slope_khz_per_ms == pytest.approx(truth.slope_khz_per_ms, abs=0.8)
        # A sine of amplitude A peaks at 20·log10(A) dB re full scale.
        assert call.peak_level_db == pytest.approx(20 * np.log10(truth.amplitude), abs=1.5)
        assert call.snr_db > 25
    qcf = table.call(_nearest(table, QCF.start_s))
    assert qcf.fme_khz == pytest.approx(45.0, abs=0.15)  # refined between 0.75 kHz bins
    assert qcf.slope_khz_per_ms == pytest.approx(0.0, abs=0.05)
    assert np.isnan(table.interval_ms[0])
    assert table.interval_ms[1:] == pytest.approx(np.diff(table.start_s) * 1000)


def test_the_band_is_clipped_at_nyquist_and_an_empty_band_is_said(tmp_path: Path) -> None:
    assert band_problem(CallSettings(), 144_000) is None
    grid = spectral_grid(CallSettings(), 144_000)
    assert grid.freqs_khz[-1] <= 72.0
    problem = band_problem(CallSettings(fmin_khz=80, fmax_khz=150), 144_000)
    assert problem is not None
    assert "144 kHz" in problem
    path = write(tmp_path / "low.wav", render(CALLS, 144_000, 0.7), 144_000)
    none = measure_calls(probe_recording(path), CallSettings(fmin_khz=80, fmax_khz=150))
    assert len(none) == 0


def test_the_analysis_band_limits_what_is_found(tmp_path: Path) -> None:
    table = _measure(tmp_path, CALLS, 384_000, 0.7, fmin_khz=55, fmax_khz=150)
    # The QCF call at 45 kHz is outside (its window sidelobes 10 kHz away are far below the
    # threshold); the sweeps are cut at 55 kHz.
    assert len(table) == 2
    assert table.start_s == pytest.approx([FM.start_s, FAINT.start_s], abs=0.001)
    assert (table.fmin_khz >= 55).all()


def test_a_call_across_a_block_boundary_is_found_once_as_without_blocks(tmp_path: Path) -> None:
    rate = 384_000
    # Blocks of 0.5 s: calls straddling 0.5, 1.0 and 1.5 s, two at once across 1.0 s (a
    # call and one higher up at the same time, as a harmonic), one far from any boundary.
    calls = [
        TrueCall(0.2, 0.005, 70_000, 35_000),
        TrueCall(0.498, 0.005, 70_000, 35_000),
        TrueCall(0.9990, 0.003, 95_000, 85_000),
        TrueCall(0.9995, 0.010, 45_000, 45_000),
        TrueCall(1.4985, 0.003, 60_000, 40_000),
    ]
    path = write(tmp_path / "blocks.wav", render(calls, rate, 2.0, seed=3), rate)
    info = probe_recording(path)
    whole = measure_calls(info, CallSettings(noise_block_s=10.0))
    blocked = measure_calls(info, CallSettings(noise_block_s=0.5))
    progress = list(iter_calls(info, CallSettings(noise_block_s=0.5)))
    assert len(progress) == 4  # four blocks, really
    assert [p.done_s for p in progress] == pytest.approx([0.5, 1.0, 1.5, 2.0], abs=1e-3)
    assert len(whole) == len(blocked) == len(calls)
    hop_ms = 1000 / 6000
    for i in range(len(calls)):
        a, b = whole.call(i), blocked.call(i)
        assert abs(a.start_s - b.start_s) * 1000 <= hop_ms + 1e-9
        assert abs(a.duration_ms - b.duration_ms) <= 2 * hop_ms + 1e-9
        assert a.fme_khz == pytest.approx(b.fme_khz, abs=0.1)
        assert a.fmax_khz == pytest.approx(b.fmax_khz, abs=0.75)
        assert a.fmin_khz == pytest.approx(b.fmin_khz, abs=0.75)
        assert a.peak_level_db == pytest.approx(b.peak_level_db, abs=0.01)
    for truth in calls:
        assert np.min(np.abs(blocked.start_s - truth.start_s)) < 0.001


def test_digital_zero_gaps_make_no_calls_and_no_floor_of_silence(tmp_path: Path) -> None:
    rate = 250_000
    calls = [TrueCall(0.05, 0.006, 40_000, 22_000), TrueCall(0.60, 0.006, 40_000, 22_000)]
    samples = render(calls, rate, 0.8, seed=4)
    gapped = samples.copy()
    gapped[round(0.1 * rate) : round(0.55 * rate)] = 0.0  # 56 % exact zero, as the Nyctalus file
    gapped[round(0.65 * rate) :] = 0.0
    plain = measure_calls(probe_recording(write(tmp_path / "plain.wav", samples, rate)))
    table = measure_calls(probe_recording(write(tmp_path / "gapped.wav", gapped, rate)))
    assert len(table) == len(plain) == 2
    for i in range(2):
        assert table.start_s[i] == pytest.approx(calls[i].start_s, abs=0.001)
        # The floor comes from the noise, not the silence: SNR as without the gaps.
        assert table.snr_db[i] == pytest.approx(plain.snr_db[i], abs=3.0)


def test_silence_and_a_constant_make_no_calls(tmp_path: Path) -> None:
    rate = 384_000
    silent = write(tmp_path / "silent.wav", np.zeros(rate), rate)
    assert len(measure_calls(probe_recording(silent))) == 0
    dc = write(tmp_path / "dc.wav", np.full(rate, 0.25), rate)
    assert len(measure_calls(probe_recording(dc))) == 0
    noise = write(tmp_path / "noise.wav", render([], rate, 1.0, seed=9), rate)
    assert len(measure_calls(probe_recording(noise))) == 0


def test_time_expansion_is_undone(tmp_path: Path) -> None:
    """A x10 file (38.4 kHz header, 384 kHz true): times and frequencies in real units."""
    from audio_factory import wamd_chunk, write_wav

    samples = render(CALLS, 384_000, 0.7)
    path = write_wav(tmp_path / "te.wav", samples, 38_400, extra_chunks=wamd_chunk(10))
    info = probe_recording(path)
    assert info.time_expansion == 10
    table = measure_calls(info)
    assert len(table) == 3
    assert table.start_s == pytest.approx([c.start_s for c in CALLS], abs=0.001)
    assert table.fme_khz[1] == pytest.approx(45.0, abs=0.15)


def test_should_stop_ends_the_measurement_between_blocks(tmp_path: Path) -> None:
    path = write(tmp_path / "long.wav", render(CALLS, 384_000, 2.0), 384_000)
    info = probe_recording(path)
    found = list(iter_calls(info, CallSettings(noise_block_s=0.5), should_stop=lambda: True))
    assert found == []


def test_noise_level_sets_the_snr(tmp_path: Path) -> None:
    table = _measure(tmp_path, [QCF], 384_000, 0.5)
    # Hann window of n samples: white noise of RMS s has a mean cell power of s²·Σw² = s²·3n/8,
    # full scale (0 dB) is (n/4)²: the median cell is ln 2 of the mean.
    n = spectral_grid(CallSettings(), 384_000).n_window
    noise_db = 10 * np.log10(NOISE_RMS**2 * 3 * n / 8 * np.log(2) / (n / 4) ** 2)
    assert table.snr_db[0] == pytest.approx(table.peak_level_db[0] - noise_db, abs=1.0)


@pytest.mark.real_recordings
@pytest.mark.parametrize("name", ["Car370293", "20180627_215323-RHIFER", "M500", "Nyctalus"])
def test_the_coarse_pass_loses_no_call(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fine STFT only where the coarse pass flags gives the calls the fine STFT everywhere
    gives (a margin of 100 dB flags every frame)."""
    from real_recordings import real_recording

    import bsgbat_gui.core.calls.detect as detect

    info = probe_recording(real_recording(name))
    gated = measure_calls(info)
    monkeypatch.setattr(detect, "CANDIDATE_MARGIN_DB", 100.0)
    everywhere = measure_calls(info)
    assert len(gated) > 0
    for field in ("start_s", "duration_ms", "fme_khz", "fmax_khz", "fmin_khz", "snr_db"):
        np.testing.assert_array_equal(getattr(gated, field), getattr(everywhere, field))


@pytest.mark.real_recordings
def test_a_quiet_files_own_silence_is_not_measured_as_calls() -> None:
    """The Nyctalus recording's floor is a few bits: without a level floor, its quantisation
    noise at 70-125 kHz (about -100 dB re full scale) came out as calls and pulled the median
    FME of a Nyctalus pass to 50 kHz."""
    from real_recordings import real_recording

    from bsgbat_gui.core.calls.settings import CallSettings
    from bsgbat_gui.core.calls.summary import summarise_calls

    info = probe_recording(real_recording("Nyctalus"))
    calls = measure_calls(info)
    unguarded = measure_calls(info, CallSettings(min_level_db=-200.0))
    assert len(calls) < len(unguarded)
    assert (calls.peak_level_db >= -90.0).all()
    assert (unguarded.peak_level_db < -90.0).any()  # what the floor leaves out is there
    # What remains: the leisler's calls (fundamental 19-27 kHz) and their harmonics.
    fundamentals = calls.fme_khz[calls.peak_level_db > -20]
    assert len(fundamentals) >= 5
    assert ((fundamentals > 18) & (fundamentals < 28)).all()
    summary = summarise_calls(calls, 0.0, info.duration_s)
    assert summary.median_fme_khz < summarise_calls(unguarded, 0.0, info.duration_s).median_fme_khz
