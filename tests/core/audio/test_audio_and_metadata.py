"""Opening recordings: true rate, time expansion, GUANO/wamd metadata, and bad files."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from audio_factory import (
    chirp_train,
    guano_chunk,
    riff_chunk,
    wamd_chunk,
    write_wav,
)
from real_recordings import real_recording

from bsgbat_gui.core.audio.metadata import parse_guano_text, parse_guano_timestamp
from bsgbat_gui.core.audio.recording import RecordingError, find_recordings, probe_recording

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np


def tone(rate: int, seconds: float = 0.3) -> np.ndarray:
    return chirp_train(rate, seconds)


# --- time expansion -------------------------------------------------------------------------


def test_guano_te_sets_true_rate_and_real_duration(tmp_path: Path) -> None:
    path = write_wav(
        tmp_path / "a.wav", tone(38_400, 2.0), 38_400, extra_chunks=guano_chunk({"TE": "10"})
    )
    info = probe_recording(path)
    assert (info.time_expansion, info.time_expansion_source) == (10.0, "guano")
    assert info.true_rate_hz == 384_000
    assert info.duration_s == pytest.approx(0.2)
    assert not info.needs_resampling


def test_wamd_te_is_used_on_an_audio_rate_file(tmp_path: Path) -> None:
    path = write_wav(
        tmp_path / "a.wav", tone(44_100), 44_100, extra_chunks=wamd_chunk(time_expansion=10)
    )
    info = probe_recording(path)
    assert (info.time_expansion, info.time_expansion_source, info.true_rate_hz) == (
        10.0,
        "wamd",
        441_000,
    )


def test_te_flag_on_an_ultrasonic_file_is_stale_and_ignored_with_a_note(tmp_path: Path) -> None:
    path = write_wav(
        tmp_path / "a.wav", tone(384_000), 384_000, extra_chunks=wamd_chunk(time_expansion=10)
    )
    info = probe_recording(path)
    assert info.time_expansion == 1.0
    assert any("stale" in w for w in info.warnings)


def test_audio_rate_without_metadata_is_assumed_x10_and_says_so(tmp_path: Path) -> None:
    info = probe_recording(write_wav(tmp_path / "a.wav", tone(38_400), 38_400))
    assert (info.time_expansion, info.time_expansion_source) == (10.0, "assumed")
    assert any("assumed ×10" in w for w in info.warnings)


def test_override_wins(tmp_path: Path) -> None:
    path = write_wav(
        tmp_path / "a.wav", tone(38_400), 38_400, extra_chunks=guano_chunk({"TE": "10"})
    )
    info = probe_recording(path, time_expansion=20)
    assert (info.time_expansion, info.true_rate_hz) == (20.0, 768_000)


def test_low_true_rate_warns_that_the_band_is_partly_empty(tmp_path: Path) -> None:
    info = probe_recording(write_wav(tmp_path / "a.wav", tone(250_000), 250_000))
    assert any("nothing above 125 kHz" in w for w in info.warnings)


# --- GUANO ----------------------------------------------------------------------------------


def test_guano_parsing_tolerates_quirks() -> None:
    fields = parse_guano_text(
        "GUANO|Version: 1.0\r\nNote: a: b \nbroken line\n\nWA|Song Meter|Prefix:ABC\x00\x00   "
    )
    assert fields == {"GUANO|Version": "1.0", "Note": "a: b", "WA|Song Meter|Prefix": "ABC"}


@pytest.mark.parametrize(
    ("text", "offset_h"),
    [
        ("2024-09-03T20:26:15+01:00", 1),
        ("2024-09-03T20:26:15Z", 0),
        ("2024-09-03T20:26:15+0100", 1),
        ("2024-09-03 20:26:15", None),
    ],
)
def test_guano_timestamps(text: str, offset_h: int | None) -> None:
    ts = parse_guano_timestamp(text)
    assert (ts.year, ts.hour, ts.second) == (2024, 20, 15)
    if offset_h is None:
        assert ts.tzinfo is None
    else:
        assert ts.utcoffset() == dt.timedelta(hours=offset_h)


def test_guano_in_a_24_bit_extensible_file_and_bad_fields_only_warn(tmp_path: Path) -> None:
    chunk = guano_chunk(
        {"Timestamp": "yesterday", "Loc Position": "52.1 4.3", "TE": "abc", "Make": "Elekon"}
    )
    path = write_wav(
        tmp_path / "a.wav", tone(384_000), 384_000, subtype="PCM_24", extra_chunks=chunk
    )
    info = probe_recording(path)
    assert (info.metadata.latitude, info.metadata.longitude) == (52.1, 4.3)
    assert info.metadata.timestamp is None
    assert info.metadata.guano["Make"] == "Elekon"
    assert sum("ignored" in w for w in info.warnings) == 2  # timestamp and TE


def test_guano_readback_agrees_with_the_guano_package(tmp_path: Path) -> None:
    guano = pytest.importorskip("guano")
    chunk = guano_chunk(
        {
            "Timestamp": "2021-05-01T22:10:00+02:00",
            "Loc Position": "48.5 -3.25",
            "Species Manual ID": "Pippip",
            "OAD|Battery Voltage": "4.2",
        }
    )
    path = write_wav(tmp_path / "a.wav", tone(384_000), 384_000, extra_chunks=chunk)
    ours = probe_recording(path).metadata
    theirs = guano.GuanoFile(str(path))
    assert ours.timestamp == theirs["Timestamp"]
    assert (ours.latitude, ours.longitude) == theirs["Loc Position"]
    assert ours.guano["OAD|Battery Voltage"] == str(theirs["OAD", "Battery Voltage"])


# --- real recordings -------------------------------------------------------------------------


@pytest.mark.real_recordings
def test_real_audiomoth_guano() -> None:
    info = probe_recording(real_recording("Audiomoth"))
    md = info.metadata
    assert md.guano["Make"] == "Open Acoustic Devices"
    assert md.guano["Original Filename"].endswith("T.WAV")
    assert md.timestamp == dt.datetime(
        2024, 9, 3, 20, 26, 15, tzinfo=dt.timezone(dt.timedelta(hours=1))
    )
    assert info.true_rate_hz == 250_000


@pytest.mark.real_recordings
def test_real_time_expanded_file_via_wamd() -> None:
    info = probe_recording(real_recording("Car370293"))
    assert (info.header_rate_hz, info.time_expansion_source, info.true_rate_hz) == (
        38_400,
        "wamd",
        384_000,
    )
    assert info.duration_s == pytest.approx(4.0987, abs=1e-3)


@pytest.mark.real_recordings
def test_real_24_bit_extensible_file_opens() -> None:
    info = probe_recording(real_recording("Kuhls"))
    assert (info.subtype, info.true_rate_hz) == ("PCM_24", 144_000)


# --- bad input --------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(RecordingError, match="empty file"):
        probe_recording(tmp_path / "empty.wav")


def test_text_file_named_wav(tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("field notes, not audio\n" * 20)
    with pytest.raises(RecordingError, match="not an audio file"):
        probe_recording(tmp_path / "notes.wav")


def test_truncated_wav_is_analysed_with_a_warning(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "t.wav", tone(384_000, 1.0), 384_000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    info = probe_recording(path)
    assert any("truncated" in w for w in info.warnings)
    assert info.duration_s == pytest.approx(0.5, abs=0.01)


def test_wav_truncated_inside_its_header(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "t.wav", tone(384_000, 1.0), 384_000)
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(RecordingError):
        probe_recording(path)


def test_broken_link(tmp_path: Path) -> None:
    (tmp_path / "gone.wav").symlink_to(tmp_path / "nowhere.wav")
    with pytest.raises(RecordingError, match="not found"):
        probe_recording(tmp_path / "gone.wav")


def test_lossy_file_warns(tmp_path: Path) -> None:
    import soundfile

    path = tmp_path / "a.ogg"
    soundfile.write(path, tone(48_000, 0.5), 48_000, format="OGG", subtype="VORBIS")
    info = probe_recording(path)
    assert any("lossy" in w for w in info.warnings)


def test_unknown_chunks_and_odd_sized_guano_do_not_disturb(tmp_path: Path) -> None:
    extra = riff_chunk(b"_PMX", b"<x>odd</x>") + riff_chunk(
        b"guan", b"GUANO|Version:1.0\nMake:X\n "
    )
    info = probe_recording(
        write_wav(tmp_path / "a.wav", tone(384_000), 384_000, extra_chunks=extra)
    )
    assert info.metadata.guano["Make"] == "X"
    assert info.warnings == ()


def test_find_recordings_recurses_skips_junk_and_keeps_order(tmp_path: Path) -> None:
    (tmp_path / "night1" / "sub").mkdir(parents=True)
    for name in (
        "night1/B.WAV",
        "night1/a.wav",
        "night1/sub/c.flac",
        "night1/._a.wav",
        "night1/x.txt",
    ):
        (tmp_path / name).write_bytes(b"x")
    found, missing = find_recordings([tmp_path / "night1", tmp_path / "nope.wav"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "night1/B.WAV",
        "night1/a.wav",
        "night1/sub/c.flac",
    ]
    assert missing == [f"{tmp_path / 'nope.wav'}: no such file or folder"]
