"""Time expansion, heterodyne and band limits (numerically), and ``bsgbat-gui clip`` on real
recordings."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
import pytest
import soundfile

from bsgbat_gui.__main__ import _subcommand_parser
from bsgbat_gui.core.audio.playback import (
    heterodyned,
    make_playable,
    time_expanded,
    to_pcm16,
    wav_bytes,
)

if TYPE_CHECKING:
    from pathlib import Path

RATE = 384_000


def tone(freq_hz: float, seconds: float = 0.2, rate: int = RATE, amplitude: float = 0.5):
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def peak_hz(x: np.ndarray, rate: float) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


def band_energy(x: np.ndarray, rate: float, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    return float(spectrum[(freqs >= low) & (freqs <= high)].sum() / spectrum.sum())


def test_time_expansion_lowers_pitch_and_lengthens_by_the_factor() -> None:
    x = tone(45_000, 0.2)
    for factor in (5, 10, 20):
        played = time_expanded(x, RATE, factor)
        assert played.rate_hz == RATE // factor
        assert played.duration_s == pytest.approx(0.2 * factor)
        assert peak_hz(played.samples, played.rate_hz) == pytest.approx(45_000 / factor, rel=0.01)
        assert played.speed == pytest.approx(1 / factor)
    # The samples are the recording's (only scaled to a fixed peak): no stretching, no resampling.
    played = time_expanded(x, RATE, 10)
    assert np.allclose(played.samples / np.abs(played.samples).max(), x / np.abs(x).max())


def test_heterodyne_gives_the_difference_frequency_and_drops_far_tones() -> None:
    played = heterodyned(tone(45_000), RATE, 40_000)
    assert played.rate_hz == 48_000
    assert played.duration_s == pytest.approx(0.2)
    assert peak_hz(played.samples, played.rate_hz) == pytest.approx(5_000, rel=0.01)
    # A 45 kHz call plus a loud 90 kHz one: only the call near the oscillator is heard.
    mixture = tone(45_000, amplitude=0.1) + tone(90_000, amplitude=0.8)
    played = heterodyned(mixture, RATE, 40_000)
    assert band_energy(played.samples, played.rate_hz, 4_500, 5_500) > 0.99
    # Nothing within the heard band: near silence, not filter residue raised to full scale.
    near = heterodyned(tone(45_000), RATE, 40_000)
    far = heterodyned(tone(120_000), RATE, 40_000)
    assert np.sqrt(np.mean(far.samples**2)) < 0.01 * np.sqrt(np.mean(near.samples**2))


def test_band_limits_remove_out_of_band_tones() -> None:
    x = tone(25_000, amplitude=0.5) + tone(50_000, amplitude=0.5) + tone(110_000, amplitude=0.5)
    played = make_playable(x, RATE, "expand", factor=10, low_hz=40_000, high_hz=70_000)
    assert band_energy(played.samples, played.rate_hz, 4_800, 5_200) > 0.995
    real = make_playable(x, RATE, "real", low_hz=90_000)
    assert band_energy(real.samples, real.rate_hz, 105_000, 115_000) > 0.995


def test_pcm_and_wav_bytes() -> None:
    played = time_expanded(tone(45_000, 0.05), RATE, 10)
    assert len(to_pcm16(played.samples)) == 2 * len(played.samples)
    data, rate = soundfile.read(io.BytesIO(wav_bytes(played)), dtype="float32")
    assert rate == 38_400
    assert len(data) == len(played.samples)
    assert np.abs(data - played.samples).max() < 2 / 32767  # 16-bit quantisation


def run_clip(argv: list[str]) -> tuple[int, str]:
    args = _subcommand_parser().parse_args(["clip", *argv])
    out, err = io.StringIO(), io.StringIO()
    return args.run(args, stdout=out, stderr=err), out.getvalue() + err.getvalue()


def test_clip_on_real_recordings_puts_calls_at_the_expected_pitch(
    recordings_dir: Path, tmp_path: Path
) -> None:
    """M500: common pipistrelle-like calls peaking near 50 kHz (the strongest bin of its
    spectrum at the true rate): expanded x10 they peak near 5 kHz, heterodyned at 45 kHz near
    |f - 45| kHz, and a x10 time-expanded file (Car370293, 38.4 kHz header) plays 10x longer."""
    m500 = next(recordings_dir.glob("M500-*.wav"))
    raw, rate = soundfile.read(m500, dtype="float32")
    call_hz = peak_hz(raw[:rate], rate)
    assert 30_000 < call_hz < 80_000

    rc, text = run_clip([str(m500), "--start", "0", "--end", "1", "--out",
                         str(tmp_path / "x10.wav")])  # fmt: skip
    assert rc == 0, text
    clip, clip_rate = soundfile.read(tmp_path / "x10.wav", dtype="float32")
    assert clip_rate == rate // 10
    assert len(clip) == rate
    assert peak_hz(clip, clip_rate) == pytest.approx(call_hz / 10, rel=0.02)

    rc, text = run_clip([str(m500), "--start", "0", "--end", "1", "--mode", "heterodyne",
                         "--lo-khz", "45", "--out", str(tmp_path / "het.wav")])  # fmt: skip
    assert rc == 0, text
    het, het_rate = soundfile.read(tmp_path / "het.wav", dtype="float32")
    assert het_rate == 48_000
    assert len(het) == 48_000
    assert peak_hz(het, het_rate) == pytest.approx(abs(call_hz - 45_000), abs=300)

    te = next(recordings_dir.glob("Car370293*.wav"))
    rc, text = run_clip([str(te), "--start", "1", "--end", "2", "--factor", "20",
                         "--band-khz", "15", "120", "--out", str(tmp_path / "te.wav")])  # fmt: skip
    assert rc == 0, text
    info = soundfile.info(tmp_path / "te.wav")
    assert info.samplerate == 384_000 // 20
    assert info.duration == pytest.approx(20.0)


def test_clip_says_what_is_wrong(recordings_dir: Path, tmp_path: Path) -> None:
    rhifer = next(recordings_dir.glob("20180627_*.wav"))
    rc, text = run_clip([str(rhifer), "--start", "2", "--end", "3", "--out", str(tmp_path / "a")])
    assert rc == 2
    assert "after the recording ends" in text
    rc, text = run_clip([str(rhifer), "--start", "0.3", "--end", "0.1", "--out", "x.wav"])
    assert rc == 2
    assert "before --end" in text
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    rc, text = run_clip([str(empty), "--start", "0", "--end", "1", "--out", "x.wav"])
    assert rc == 1
    assert "empty file" in text
    assert not (tmp_path / "a").exists()
