"""GUANO write-back: Species Manual ID set, every other field and every audio byte kept; files that
cannot be rewritten safely are left alone; the analysis cache follows the rewritten file."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import guano
import pytest
from audio_factory import chirp_train, guano_chunk, riff_chunk, write_wav

from bsgbat_gui.__main__ import _subcommand_parser
from bsgbat_gui.core.guano_write import GuanoWriteError, guano_text_with, write_manual_id
from bsgbat_gui.core.metadata import read_riff_layout
from bsgbat_gui.core.review_store import Decision, ReviewStore


def chunk_bytes(path: Path) -> dict[str, bytes]:
    """Every chunk's body, by id (the last of each id)."""
    layout = read_riff_layout(path)
    assert layout is not None
    data = path.read_bytes()
    return {
        c.chunk_id: data[c.body_offset : c.body_offset + c.declared_size] for c in layout.chunks
    }


FIELDS = {
    "Timestamp": "2024-06-01T22:30:00+02:00",
    "Loc Position": "52.1 4.5",
    "Make": "Open Acoustic Devices",
    "OAD|Battery Voltage": "4.1",
    "Species Manual ID": "old guess",
    "Note": "Ünïcode, with: a colon",
}


def test_manual_id_replaces_the_field_and_keeps_everything_else(tmp_path: Path) -> None:
    path = write_wav(
        tmp_path / "a.wav",
        chirp_train(384_000, 0.3),
        384_000,
        extra_chunks=riff_chunk(b"LIST", b"INFOjunk") + guano_chunk(FIELDS),
    )
    before = chunk_bytes(path)
    write_manual_id(path, ["Pipistrellus pipistrellus", "Nyctalus noctula"])
    after = chunk_bytes(path)
    assert after["data"] == before["data"]  # the audio, byte for byte
    assert after["fmt "] == before["fmt "] and after["LIST"] == before["LIST"]
    g = guano.GuanoFile(str(path))
    assert g["Species Manual ID"] == "Pipistrellus pipistrellus, Nyctalus noctula"
    assert g["Make"] == FIELDS["Make"] and g["Note"] == FIELDS["Note"]
    assert g["OAD|Battery Voltage"] == "4.1"
    assert g["Loc Position"] == (52.1, 4.5)
    assert g["Timestamp"].isoformat() == FIELDS["Timestamp"]
    text = after["guan"].decode("utf-8")
    for key, value in FIELDS.items():
        if key != "Species Manual ID":
            assert f"{key}:{value}" in text  # lines kept verbatim
    assert len(after["guan"]) % 2 == 0
    # RIFF size matches the file.
    data = path.read_bytes()
    assert int.from_bytes(data[4:8], "little") == len(data) - 8


def test_a_file_without_guano_gets_a_guano_chunk(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "plain.wav", chirp_train(250_000, 0.2), 250_000)
    before = chunk_bytes(path)["data"]
    write_manual_id(path, ["Myotis daubentonii"])
    assert chunk_bytes(path)["data"] == before
    g = guano.GuanoFile(str(path))
    assert g["GUANO|Version"] == "1.0" and g["Species Manual ID"] == "Myotis daubentonii"


def test_24_bit_real_recording_keeps_its_audio(recordings_dir: Path, tmp_path: Path) -> None:
    source = next(recordings_dir.glob("Kuhls-pipistrelle*.wav"))
    path = tmp_path / source.name
    shutil.copy(source, path)
    before = chunk_bytes(path)
    write_manual_id(path, ["Pipistrellus kuhlii"])
    after = chunk_bytes(path)
    assert after["data"] == before["data"]
    assert "Species Manual ID: Pipistrellus kuhlii" in after["guan"].decode()


def test_unsafe_files_are_left_untouched(tmp_path: Path) -> None:
    truncated = write_wav(tmp_path / "t.wav", chirp_train(384_000, 0.3), 384_000)
    truncated.write_bytes(truncated.read_bytes()[:-1000])
    not_wav = tmp_path / "n.wav"
    not_wav.write_bytes(b"fLaC not a wav at all")
    for path, reason in ((truncated, "truncated"), (not_wav, "not a RIFF/WAVE")):
        before = path.read_bytes()
        with pytest.raises(GuanoWriteError, match=reason):
            write_manual_id(path, ["Nyctalus noctula"])
        assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.wav", "t.wav"]  # no temp left


def test_guano_text_edit_keeps_order_and_unknown_lines() -> None:
    text = "GUANO|Version: 1.0\nX|Custom: 1\nSpecies Manual ID: a\nNote: b\n  \n"
    assert guano_text_with(text, "Species Manual ID", "c") == (
        "GUANO|Version: 1.0\nX|Custom: 1\nSpecies Manual ID: c\nNote: b\n"
    )
    assert guano_text_with("", "Species Manual ID", "c") == (
        "GUANO|Version: 1.0\nSpecies Manual ID: c\n"
    )


def test_export_write_guano_asks_first_and_keeps_the_cache_valid(
    model_set_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "night"
    folder.mkdir()
    recording = write_wav(folder / "r.wav", chirp_train(384_000, 2.5, seed=3), 384_000)
    store_path = folder / "review.sqlite"
    parser = _subcommand_parser()

    def run(argv: list[str], stdin: str = "") -> tuple[int, str]:
        args = parser.parse_args(argv)
        out, err = io.StringIO(), io.StringIO()
        kwargs = {"stdin": io.StringIO(stdin)} if argv[0] == "export" else {}
        rc = args.run(args, stdout=out, stderr=err, **kwargs)
        return rc, out.getvalue() + err.getvalue()

    analyze = ["analyze", str(folder), "--models", str(model_set_dir), "--project"]
    rc, text = run([*analyze, str(store_path), "--detections", str(tmp_path / "d.csv")])
    assert rc == 0, text
    with ReviewStore.open(store_path) as store:
        store.put_decision(
            Decision(recording, "Pipistrellus pipistrellus", 0.0, 1.024, "confirmed",
                     "Pipistrellus pipistrellus")
        )  # fmt: skip
    audio = chunk_bytes(recording)["data"]
    # Not confirmed: nothing written.
    rc, text = run(["export", str(store_path), "--out", str(tmp_path / "v.csv"), "--write-guano"],
                   stdin="no\n")  # fmt: skip
    assert rc == 0 and "GUANO left unchanged" in text
    assert "guan" not in chunk_bytes(recording)
    rc, text = run(["export", str(store_path), "--out", str(tmp_path / "v2.csv"), "--write-guano",
                    "--yes"])  # fmt: skip
    assert rc == 0 and "GUANO written to 1 file(s), 0 failed" in text
    assert guano.GuanoFile(str(recording))["Species Manual ID"] == "Pipistrellus pipistrellus"
    assert chunk_bytes(recording)["data"] == audio
    # The rewritten file is still served from the analysis cache.
    analyze = ["analyze", str(folder), "--models", str(model_set_dir), "--project"]
    rc, text = run([*analyze, str(store_path), "--detections", str(tmp_path / "d2.csv")])
    assert rc == 0 and "(1 from" in text
