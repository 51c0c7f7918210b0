"""GUANO write-back: on a corpus of real-world WAV layouts, every file written is valid RIFF that
guano-py, libsndfile and SciPy read, with the audio byte for byte and the new field; a file that
cannot be made valid is left untouched, byte for byte. Also: the real recordings, links, the
export command's selection and listing, and the analysis cache following the rewritten file."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import shutil
import warnings
from pathlib import Path

import guano
import numpy as np
import pytest
import scipy.io.wavfile
from audio_factory import chirp_train, write_wav
from real_recordings import real_recording_paths
from wav_corpus import CASES, WavCase, samples_of

from bsgbat_gui.__main__ import _subcommand_parser
from bsgbat_gui.core.audio.guano_write import (
    GuanoUpdate,
    GuanoWriteError,
    guano_body_with,
    write_guano,
)
from bsgbat_gui.core.audio.metadata import RiffLayout, read_riff_layout
from bsgbat_gui.core.audio.recording import probe_recording
from bsgbat_gui.core.review.decisions import Decision, RecordingReview
from bsgbat_gui.core.review.store import ReviewStore


def layout_of(path: Path) -> RiffLayout:
    layout = read_riff_layout(path)
    assert layout is not None
    return layout


def chunk_body(path: Path, chunk_id: str) -> bytes:
    chunk = layout_of(path).find(chunk_id)
    assert chunk is not None, chunk_id
    return path.read_bytes()[chunk.body_offset : chunk.body_offset + chunk.declared_size]


def data_sha256(path: Path) -> str:
    return hashlib.sha256(chunk_body(path, "data")).hexdigest()


def assert_valid_riff(path: Path) -> None:
    """What every RIFF reader relies on: the RIFF size, every chunk word-aligned and inside the
    file, nothing after the last chunk."""
    raw = path.read_bytes()
    assert raw[:4] == b"RIFF"
    assert raw[8:12] == b"WAVE"
    assert int.from_bytes(raw[4:8], "little") == len(raw) - 8
    pos = 12
    while pos < len(raw):
        chunk_id, size = raw[pos : pos + 4], int.from_bytes(raw[pos + 4 : pos + 8], "little")
        assert chunk_id.isascii(), (pos, chunk_id)
        assert chunk_id.decode().isprintable(), (pos, chunk_id)
        assert pos % 2 == 0, (chunk_id, pos, size)
        assert pos + 8 + size <= len(raw), (chunk_id, pos, size)
        pos += 8 + size + (size & 1)
    assert pos == len(raw)


def guano_of(path: Path, case_reads: bool = True) -> guano.GuanoFile:
    """The file's GUANO as guano-py reads it: from the file itself where Python 3.11's wave
    module (which guano-py opens the file with) knows the format, else from the chunk text."""
    if case_reads:
        return guano.GuanoFile(str(path))
    return guano.GuanoFile.from_string(chunk_body(path, "guan"))


def update_for(path: Path, codes: tuple[str, ...]) -> GuanoUpdate:
    info = probe_recording(path)  # TE and timestamp as the app reads them
    return GuanoUpdate(path, codes, info.time_expansion, info.metadata.timestamp)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_write_back_on_every_kind_of_wav(case: WavCase, tmp_path: Path) -> None:
    path = case.make(tmp_path / case.name)
    before = path.read_bytes()
    stat_before = path.stat()
    if not case.writable:
        update = GuanoUpdate(path, ("PIPPIP",), case.time_expansion)
        with pytest.raises(GuanoWriteError, match=case.refusal):
            write_guano(update)
        assert path.read_bytes() == before  # byte for byte untouched
        assert [p.name for p in tmp_path.iterdir()] == [case.name]  # no temporary left
        return
    audio, samples = data_sha256(path), samples_of(path)
    old_fields = dict(guano_of(path, case.guano_py_reads).items()) if b"guan" in before else {}
    update = update_for(path, ("PIPPIP", "NYCNOC"))
    assert update.time_expansion == case.time_expansion
    digest = write_guano(update)

    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert_valid_riff(path)
    assert data_sha256(path) == audio  # the audio, byte for byte
    assert (samples_of(path) == samples).all()  # and as libsndfile decodes it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.io.wavfile.WavFileWarning)  # unknown chunks
        scipy.io.wavfile.read(path)  # another RIFF reader walks every chunk
    g = guano_of(path, case.guano_py_reads)
    assert g["Species Manual ID"] == "PIPPIP, NYCNOC"
    if case.time_expansion != 1:
        assert g["TE"] == int(case.time_expansion)
    else:
        assert "TE" not in g
    for key, value in old_fields.items():
        if key != "Species Manual ID":
            assert g[key] == value, key  # every existing field kept (Species Auto ID too)
    if update.timestamp is not None and "Timestamp" not in old_fields:
        assert g["Timestamp"] == update.timestamp
    assert path.stat().st_mode == stat_before.st_mode
    assert path.stat().st_mtime_ns == stat_before.st_mtime_ns  # the recording's time is kept
    assert [p.name for p in tmp_path.iterdir()] == [case.name]

    # A second write-back (the bug made it refuse) replaces the field, once.
    write_guano(update_for(path, ("MYODAU",)))
    assert_valid_riff(path)
    assert data_sha256(path) == audio
    assert guano_of(path, case.guano_py_reads)["Species Manual ID"] == "MYODAU"
    assert chunk_body(path, "guan").count(b"Species Manual ID") == 1


def test_every_real_recording_is_written_back_validly(recordings_dir: Path, tmp_path: Path) -> None:
    wavs = [p for p in real_recording_paths() if p.suffix.lower() == ".wav"]
    assert len(wavs) == 7
    for source in wavs:
        path = tmp_path / source.name
        shutil.copy(source, path)
        path.chmod(0o644)  # the shared copies are read-only
        audio = data_sha256(path)
        update = update_for(path, ("PLEAUR",))
        write_guano(update)
        assert_valid_riff(path)
        assert data_sha256(path) == audio, source.name
        # guano-py opens the file itself except the 24-bit extensible one (its wave module).
        readable = probe_recording(path).subtype != "PCM_24"
        g = guano_of(path, readable)
        assert g["Species Manual ID"] == "PLEAUR", source.name
        if update.time_expansion != 1:
            assert g["TE"] == int(update.time_expansion), source.name
        assert probe_recording(path).time_expansion == update.time_expansion
    # The time-expanded SM2BAT+ file (odd wamd, no pad byte: the reported corruption).
    car = next(tmp_path.glob("Car370293*.wav"))
    g = guano.GuanoFile(str(car))
    assert (g["TE"], g["Species Manual ID"]) == (10, "PLEAUR")
    assert g["Timestamp"] == dt.datetime(2016, 6, 29, 23, 42, 4, 701000)  # from its wamd chunk
    write_guano(update_for(car, ("PLEAUR", "PIPPIP")))  # and again
    assert guano.GuanoFile(str(car))["Species Manual ID"] == "PLEAUR, PIPPIP"


def test_guano_text_keeps_every_line_and_adds_only_what_is_missing() -> None:
    original = (
        b"Species Auto ID: NYCNOC\nGUANO|Version: 1.0\nX|Custom: caf\xe9 (latin-1 byte kept)\n"
        b"Species Manual ID: a\nTE: 10\nNote: b\nSpecies Manual ID: dup\n   \n\x00\x00"
    )
    update = GuanoUpdate(Path("x.wav"), ("PIPPIP", "MYO,NAT"), 10.0, dt.datetime(2024, 6, 1))
    body = guano_body_with(original, update)
    assert body.rstrip(b" ") == (
        b"GUANO|Version: 1.0\nSpecies Auto ID: NYCNOC\nX|Custom: caf\xe9 (latin-1 byte kept)\n"
        b"Species Manual ID: PIPPIP, MYO NAT\nTE: 10\nNote: b\nTimestamp: 2024-06-01T00:00:00\n"
    )
    assert len(body) % 2 == 0
    fresh = guano_body_with(b"", GuanoUpdate(Path("y.wav"), ("Noise",), 1.0))
    assert fresh.rstrip(b" ") == b"GUANO|Version: 1.0\nSpecies Manual ID: Noise\n"
    with_te = guano_body_with(b"", GuanoUpdate(Path("z.wav"), ("NoID",), 12.5))
    assert b"TE: 12.5\n" in with_te


def test_a_link_is_followed_and_a_hard_linked_file_left_alone(tmp_path: Path) -> None:
    target = write_wav(tmp_path / "real.wav", chirp_train(384_000, 0.1), 384_000)
    link = tmp_path / "link.wav"
    link.symlink_to(target)
    write_guano(GuanoUpdate(link, ("PIPPIP",)))
    assert link.is_symlink()
    assert guano.GuanoFile(str(target))["Species Manual ID"] == "PIPPIP"
    other = tmp_path / "other-name.wav"
    os.link(target, other)
    before = target.read_bytes()
    with pytest.raises(GuanoWriteError, match="hard links"):
        write_guano(GuanoUpdate(target, ("MYODAU",)))
    assert target.read_bytes() == before == other.read_bytes()


def _run(argv: list[str], stdin: str = "") -> tuple[int, str]:
    args = _subcommand_parser().parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    kwargs = {"stdin": io.StringIO(stdin)} if argv[0] == "export" else {}
    rc = args.run(args, stdout=out, stderr=err, **kwargs)
    return rc, out.getvalue() + err.getvalue()


def test_export_write_guano_touches_exactly_the_selected_recordings(
    model_set_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "night"
    folder.mkdir()
    # Two passes of 46 kHz calls (pipistrelle-like for the band-energy test models) with
    # silence between: two detections per recording.
    calls = chirp_train(384_000, 1.5, f_start_hz=47_000, f_end_hz=45_000, call_s=0.02,
                        interval_s=0.04)  # fmt: skip
    two_passes = np.concatenate([calls, np.zeros(3 * 384_000), calls])
    done = write_wav(folder / "done.wav", two_passes, 384_000)
    half = write_wav(folder / "half.wav", two_passes, 384_000)
    store_path = folder / "review.sqlite"
    analyze = ["analyze", str(folder), "--models", str(model_set_dir), "--project"]
    rc, text = _run([*analyze, str(store_path), "--detections", str(tmp_path / "d.csv")])
    assert rc == 0, text
    pip = "Pipistrellus pipistrellus"
    with ReviewStore.open(store_path) as store:
        for path in (done, half):
            store.put_decision(Decision(path, pip, 0.0, 1.024, "confirmed", pip))
        store.set_recording_review(done, RecordingReview(reviewed=True))
    audio = {p: data_sha256(p) for p in (done, half)}
    base = ["export", str(store_path), "--write-guano"]
    # Not confirmed: nothing written, but the files were listed first.
    rc, text = _run([*base, "--out", str(tmp_path / "v.csv")], stdin="no\n")
    assert rc == 0
    assert "GUANO left unchanged" in text
    assert f"{done}: Species Manual ID = PIPPIP" in text
    assert str(half) in text
    assert layout_of(done).find("guan") is None
    # Only the reviewed recording, when the export selects reviewed ones.
    rc, text = _run([*base, "--yes", "--recordings", "reviewed", "--out", str(tmp_path / "r.csv")])
    assert rc == 0, text
    assert "GUANO written to 1 file(s), 0 failed" in text, text
    assert str(half) not in text
    assert guano.GuanoFile(str(done))["Species Manual ID"] == "PIPPIP"
    assert layout_of(half).find("guan") is None
    assert {p: data_sha256(p) for p in (done, half)} == audio
    # The rewritten file is still served from the analysis cache.
    rc, text = _run([*analyze, str(store_path), "--detections", str(tmp_path / "d2.csv")])
    assert rc == 0, text
    assert "(2 from" in text, text
