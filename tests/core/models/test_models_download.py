"""``models download | verify | list`` against a loopback server serving a fake release."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from audio_factory import chirp_train, write_wav
from release_server import build_release, serve_release

from bsgbat_gui.__main__ import main
from bsgbat_gui.core.model_card import LABELS_FILENAME, MODEL_FILENAMES
from bsgbat_gui.core.models.download import _disk_error

R2, R3, R4, R5 = MODEL_FILENAMES[1:5]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_release(tmp_path_factory.mktemp("release"))


def download(base_url: str, dest: Path) -> int:
    return main(["models", "download", "--base-url", base_url, "--dest", str(dest)])


def leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.rglob("*.part"))


def test_full_download_installs_a_set_that_analyze_uses(
    release: Path, tmp_path: Path, capsys
) -> None:
    dest = tmp_path / "installed"
    with serve_release(release) as (url, _state):
        assert download(url, dest) == 0
    out = capsys.readouterr().out
    assert f"Model set installed in {dest}" in out
    assert "CC-BY-4.0" in out
    for name in (*MODEL_FILENAMES, LABELS_FILENAME, "SHA256SUMS"):
        assert (dest / name).read_bytes() == (release / name).read_bytes()
    assert leftovers(dest) == []
    assert main(["models", "verify", str(dest)]) == 0
    recording = write_wav(tmp_path / "r.wav", chirp_train(384_000, 1.5), 384_000)
    assert main(["analyze", str(recording), "--models", str(dest)]) == 0


def test_a_dropped_connection_resumes_with_a_range_request(release: Path, tmp_path: Path) -> None:
    dest = tmp_path / "installed"
    with serve_release(release) as (url, state):
        state.faults[R2] = "drop-once"
        assert download(url, dest) == 0
    ranges = [rng for name, rng in state.requests if name == R2]
    assert ranges[0] is None
    assert ranges[1] is not None
    assert ranges[1] != "bytes=0-"
    assert (dest / R2).read_bytes() == (release / R2).read_bytes()


def test_an_interrupted_download_resumes_on_the_next_run(
    release: Path, tmp_path: Path, capsys
) -> None:
    dest = tmp_path / "installed"
    with serve_release(release) as (url, state):
        state.faults[R3] = "drop-always"
        assert download(url, dest) == 1
        err = capsys.readouterr().err
        assert err.count("error:") == 1
        assert "run the command again to resume" in err
        assert not (dest / R3).exists()
        kept = (dest / (R3 + ".part")).stat().st_size
        assert 0 < kept < (release / R3).stat().st_size
        state.faults.clear()
        state.requests.clear()
        assert download(url, dest) == 0
    out = capsys.readouterr().out
    assert f"{MODEL_FILENAMES[0]}: already present, verified" in out
    assert [rng for name, rng in state.requests if name == R3] == [f"bytes={kept}-"]
    assert all(name != MODEL_FILENAMES[0] for name, _rng in state.requests)
    assert (dest / R3).read_bytes() == (release / R3).read_bytes()
    assert leftovers(dest) == []


def test_a_server_that_ignores_range_restarts_the_file(release: Path, tmp_path: Path) -> None:
    dest = tmp_path / "installed"
    with serve_release(release) as (url, state):
        assert download(url, dest) == 0
        state.faults[R4] = "ignore-range"
        (dest / R4).unlink()
        (dest / (R4 + ".part")).write_bytes(b"stale bytes from an older attempt")
        assert download(url, dest) == 0
    assert (dest / R4).read_bytes() == (release / R4).read_bytes()


def test_a_corrupted_file_is_refused_and_nothing_is_left_under_its_name(
    release: Path, tmp_path: Path, capsys
) -> None:
    dest = tmp_path / "installed"
    with serve_release(release) as (url, state):
        state.faults[R4] = "corrupt"
        assert download(url, dest) == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1
    assert f"{R4} does not match the release's checksum" in err
    assert not (dest / R4).exists()
    assert leftovers(dest) == []
    assert not (dest / "SHA256SUMS").exists()  # placed only when the whole set is in


@pytest.mark.parametrize(
    ("fault", "message"),
    [("404", "not found on the server (HTTP 404)"), ("500", "the server failed (HTTP 500)")],
)
def test_http_errors_are_one_clear_message(
    release: Path, tmp_path: Path, capsys, fault: str, message: str
) -> None:
    with serve_release(release) as (url, state):
        state.faults[R5] = fault
        assert download(url, tmp_path / "d") == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1
    assert message in err
    assert R5 in err
    assert not (tmp_path / "d" / R5).exists()


def test_an_unreachable_server_is_one_clear_message(tmp_path: Path, capsys) -> None:
    # Port 1 on the loopback interface: nothing listens there.
    assert download("http://127.0.0.1:1/release", tmp_path / "d") == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1
    assert "cannot reach 127.0.0.1:1" in err


def test_a_release_without_checksums_is_refused(tmp_path: Path, capsys) -> None:
    bare = build_release(tmp_path / "bare")
    (bare / "SHA256SUMS").write_text("", encoding="utf-8")
    with serve_release(bare) as (url, _state):
        assert download(url, tmp_path / "d") == 1
    assert "refusing to install unverifiable files" in capsys.readouterr().err


def test_disk_errors_are_explained() -> None:
    path = Path("/data/models/x.onnx.part")
    assert "disk is full" in str(_disk_error(path, OSError(errno.ENOSPC, "No space left")))
    assert "permission denied" in str(_disk_error(path, OSError(errno.EACCES, "Permission")))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_destination_is_one_clear_message(
    release: Path, tmp_path: Path, capsys
) -> None:
    dest = tmp_path / "ro"
    dest.mkdir()
    dest.chmod(0o500)
    try:
        with serve_release(release) as (url, _state):
            assert download(url, dest) == 1
    finally:
        dest.chmod(0o700)
    assert "permission denied" in capsys.readouterr().err


def test_verify_finds_a_damaged_model_and_list_describes_sets(
    release: Path, tmp_path: Path, capsys
) -> None:
    dest = tmp_path / "installed"
    with serve_release(release) as (url, _state):
        assert download(url, dest) == 0
    capsys.readouterr()
    assert main(["models", "list", "--models", str(dest)]) == 0
    listing = capsys.readouterr().out
    assert f"{dest} (--models)" in listing
    assert "spectrogram float32 [batch,1,512,128] -> logits [batch,22]" in listing
    assert "opset 17" in listing
    assert "verified" in listing
    data = bytearray((dest / R2).read_bytes())
    data[-10] ^= 0xFF
    (dest / R2).write_bytes(bytes(data))
    assert main(["models", "verify", str(dest)]) == 1
    out = capsys.readouterr().out
    assert f"{R2}: checksum MISMATCH" in out
    assert "NOT USABLE AS IS" in out
