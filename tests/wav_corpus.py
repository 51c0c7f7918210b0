"""WAV files as recorders and other tools write them, good and broken, for the GUANO write-back
tests: each made on the fly, small, from its raw RIFF bytes (so the odd layouts real devices
produce can be built exactly)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audio_factory import chirp_train, guano_chunk, write_wav

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import numpy as np

RATE = 384_000


def raw_chunk(chunk_id: bytes, body: bytes, *, pad: bool = True) -> bytes:
    """A chunk; ``pad=False`` leaves out the pad byte an odd body needs (as SM2BAT+ does)."""
    return (
        chunk_id + struct.pack("<I", len(body)) + body + (b"\x00" if pad and len(body) % 2 else b"")
    )


def riff(*chunks: bytes, riff_size: int | None = None) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) if riff_size is None else riff_size) + body


def pcm16_parts(rate: int = RATE, seconds: float = 0.05, seed: int = 0) -> tuple[bytes, bytes]:
    """The ``fmt `` and ``data`` chunks of a mono 16-bit recording."""
    samples = (chirp_train(rate, seconds, seed=seed) * 32767).astype("<i2")
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return raw_chunk(b"fmt ", fmt), raw_chunk(b"data", samples.tobytes())


def sm2bat_wamd_body() -> bytes:
    """A ``wamd`` body of 69 bytes (odd), as a Kaleidoscope/SM2BAT+ time-expanded file ends:
    version, time expansion ×10, timestamp and software records."""
    timestamp, software = b"2016-06-29 23:42:04.701", b"Kaleidoscope 2.0.4"
    body = (
        struct.pack("<HIH", 0x0000, 2, 1)
        + struct.pack("<HIH", 0x000F, 2, 10)
        + struct.pack("<HI", 0x0005, len(timestamp)) + timestamp
        + struct.pack("<HI", 0x0008, len(software)) + software
    )  # fmt: skip
    assert len(body) == 69
    return body


@dataclass(frozen=True)
class WavCase:
    """One file of the corpus: how to make it, and what a write-back must do with it."""

    name: str
    make: Callable[[Path], Path]
    writable: bool = True  # False: the write-back must refuse and leave every byte
    refusal: str = ""  # part of the reason given when refused
    time_expansion: float = 1.0  # what the app reads the file with
    guano_py_reads: bool = True  # Python 3.11's wave module (under guano-py) opens it


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _plain(path: Path) -> Path:
    return _write(path, riff(*pcm16_parts()))


def _sm2bat_odd_wamd_no_pad(path: Path) -> Path:
    fmt, data = pcm16_parts(38_400)
    # No pad byte after the 69-byte wamd, and the RIFF size counting only what is there.
    return _write(path, riff(fmt, data, raw_chunk(b"wamd", sm2bat_wamd_body(), pad=False)))


def _audiomoth_odd_guan_no_pad(path: Path) -> Path:
    fmt, data = pcm16_parts(250_000)
    list_chunk = raw_chunk(b"LIST", b"INFOICMT\x05\x00\x00\x00note\x00\x00")
    text = (
        b"GUANO|Version:1.0\nMake:Open Acoustic Devices\nModel:AudioMoth\n"
        b"Timestamp:2024-09-03T20:26:15+01:00\nOAD|Battery Voltage:4.2\n"
        b"Species Auto ID:PIPPIP\n"
    )
    text += b" " if len(text) % 2 == 0 else b""  # an odd body, like the real file's 255 bytes
    return _write(path, riff(fmt, list_chunk, data, raw_chunk(b"guan", text, pad=False)))


def _wamd_and_guan(path: Path) -> Path:
    fmt, data = pcm16_parts(38_400)
    guan = guano_chunk({"TE": "10", "Species Auto ID": "NYCNOC", "Note": "field note"})
    return _write(path, riff(fmt, data, raw_chunk(b"wamd", sm2bat_wamd_body()), guan))


def _extensible_24bit(path: Path) -> Path:
    return write_wav(
        path, chirp_train(144_000, 0.05), 144_000, subtype="PCM_24",
        extra_chunks=guano_chunk({"Make": "Pettersson"}),
    )  # fmt: skip


def _float32(path: Path) -> Path:
    return write_wav(path, chirp_train(RATE, 0.05), RATE, subtype="FLOAT")


def _list_after_data(path: Path) -> Path:
    fmt, data = pcm16_parts()
    return _write(path, riff(fmt, data, raw_chunk(b"LIST", b"INFOISFT\x03\x00\x00\x00ab\x00")))


def _rf64(path: Path) -> Path:
    fmt, data = pcm16_parts()
    ds64 = raw_chunk(b"ds64", struct.pack("<QQQI", 0, len(data), 0, 0))
    body = b"WAVE" + ds64 + fmt + data
    return _write(path, b"RF64" + struct.pack("<I", 0xFFFFFFFF) + body)


def _read_only(path: Path) -> Path:
    _plain(path)
    path.chmod(0o444)
    return path


def _truncated(path: Path) -> Path:
    data = riff(*pcm16_parts())
    return _write(path, data[:-500])


def _damaged_chunk_list(path: Path) -> Path:
    fmt, data = pcm16_parts()
    # An odd chunk written without its pad byte in the middle of the file: every chunk after it
    # is read one byte off, as garbage.
    return _write(path, riff(fmt, raw_chunk(b"junk", b"abc", pad=False), data))


def _two_guano_chunks(path: Path) -> Path:
    fmt, data = pcm16_parts()
    return _write(path, riff(fmt, data, guano_chunk({"Note": "a"}), guano_chunk({"Note": "b"})))


def _trailing_garbage(path: Path) -> Path:
    return _write(path, riff(*pcm16_parts()) + b"\x01\x02\x03")


def _trailing_zero(path: Path) -> Path:
    return _write(path, riff(*pcm16_parts()) + b"\x00\x00")


def _wrong_riff_size(path: Path) -> Path:
    return _write(path, riff(*pcm16_parts(), riff_size=0))


CASES = (
    WavCase("plain.wav", _plain),
    WavCase("sm2bat-odd-wamd.wav", _sm2bat_odd_wamd_no_pad, time_expansion=10.0),
    WavCase("audiomoth-odd-guan.wav", _audiomoth_odd_guan_no_pad),
    WavCase("wamd-and-guan.wav", _wamd_and_guan, time_expansion=10.0),
    WavCase("extensible-24bit.wav", _extensible_24bit, guano_py_reads=False),
    WavCase("float32.wav", _float32, guano_py_reads=False),
    WavCase("list-after-data.wav", _list_after_data),
    WavCase("trailing-zero.wav", _trailing_zero),
    WavCase("wrong-riff-size.wav", _wrong_riff_size),
    WavCase("rf64.wav", _rf64, writable=False, refusal="RF64"),
    WavCase("read-only.wav", _read_only, writable=False, refusal="read-only"),
    WavCase("truncated.wav", _truncated, writable=False, refusal="truncated"),
    WavCase("damaged-chunks.wav", _damaged_chunk_list, writable=False, refusal="damaged"),
    WavCase("two-guano.wav", _two_guano_chunks, writable=False, refusal="two GUANO"),
    WavCase("trailing-garbage.wav", _trailing_garbage, writable=False, refusal="unexplained"),
)


def samples_of(path: Path) -> np.ndarray:
    import soundfile

    return soundfile.read(str(path), dtype="float64", always_2d=True)[0]
