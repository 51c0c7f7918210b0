"""The bad-input corpus: every kind of broken, odd or hostile input a survey folder has been seen
to hold (or could), built small and on the fly beside a few good recordings.

``build_corpus(folder)`` writes them and returns what each must give: ``analyze`` and the window
report each bad file in one clear line (no traceback), warn where a file is usable, and analyse
every good one. Add a kind here when a new one is found.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import soundfile
from audio_factory import chirp_train, guano_chunk, wamd_chunk, write_wav

if TYPE_CHECKING:
    from pathlib import Path

ERROR, WARNING, OK = "error", "warning", "ok"


@dataclass(frozen=True)
class BadInput:
    """One entry: its file name as printed, what it must give, and a word the line says."""

    name: str
    outcome: str  # ERROR: one error line, not analysed; WARNING: analysed, warned; OK: analysed
    says: str = ""

    @property
    def analysed(self) -> bool:
        return self.outcome != ERROR


def _float_wav(path: Path, samples: np.ndarray, rate: int = 384_000) -> Path:
    soundfile.write(str(path), samples.astype(np.float32), rate, subtype="FLOAT", format="WAV")
    return path


def _header_rate(path: Path, rate: int) -> None:
    """Overwrite a PCM WAV's header sample rate (and byte rate), leaving its samples."""
    data = bytearray(path.read_bytes())
    fmt = data.index(b"fmt ")
    block_align = struct.unpack_from("<H", data, fmt + 8 + 12)[0]
    struct.pack_into("<II", data, fmt + 8 + 4, rate, rate * block_align)
    path.write_bytes(bytes(data))


def build_corpus(folder: Path) -> list[BadInput]:
    """Write the corpus into ``folder`` (created); the list says what each file must give."""
    folder.mkdir(parents=True, exist_ok=True)
    sub = folder / "sub"
    sub.mkdir()
    entries: list[BadInput] = []

    def add(name: str, outcome: str, says: str = "") -> None:
        entries.append(BadInput(name, outcome, says))

    # Good recordings, which must be analysed whatever else the folder holds.
    write_wav(folder / "good1.wav", chirp_train(384_000, 2.1, seed=1), 384_000)
    add("good1.wav", OK)
    write_wav(sub / "good2.WAV", chirp_train(384_000, 1.4, seed=2), 384_000)
    add("good2.WAV", OK)
    write_wav(folder / "clip.wav", chirp_train(384_000, 0.5, seed=3), 384_000)
    add("clip.wav", OK)
    write_wav(folder / '+1 =x, "q".wav', chirp_train(384_000, 1.1, seed=5), 384_000)
    add('+1 =x, "q".wav', OK)

    # Not audio at all.
    (folder / "empty.wav").write_bytes(b"")
    add("empty.wav", ERROR, "empty")
    (folder / "readme.wav").write_text("this is not audio\n" * 10)
    add("readme.wav", ERROR, "not an audio file")
    head = write_wav(folder / "header-cut.wav", chirp_train(384_000, 2.0, seed=4), 384_000)
    head.write_bytes(head.read_bytes()[:40])
    add("header-cut.wav", ERROR)
    only_header = write_wav(folder / "no-samples.wav", np.zeros(0), 384_000)
    add(only_header.name, ERROR, "no audio")

    # Links and special files.
    (folder / "gone.wav").symlink_to(folder / "deleted-since.wav")
    add("gone.wav", ERROR, "not found")
    (folder / "loop-a.wav").symlink_to(folder / "loop-b.wav")
    (folder / "loop-b.wav").symlink_to(folder / "loop-a.wav")
    add("loop-a.wav", ERROR, "link loop")
    add("loop-b.wav", ERROR, "link loop")
    os.mkfifo(folder / "pipe.wav")
    add("pipe.wav", ERROR, "not a regular file")

    # Names that are not text.
    made = write_wav(folder / "bad-name.tmp", chirp_train(384_000, 1.0, seed=6), 384_000)
    made.rename(os.fsdecode(os.fsencode(folder) + b"/bad\xff.wav"))  # libsndfile cannot
    add("bad\\xff.wav", ERROR, "not valid UTF-8")
    write_wav(folder / "new\nline.wav", chirp_train(384_000, 1.0, seed=7), 384_000)
    add("new\\nline.wav", OK)

    # Damaged samples and headers.
    with_nan = chirp_train(384_000, 1.2, seed=8)
    with_nan[1000:1010] = np.nan
    _float_wav(folder / "nan.wav", with_nan)
    add("nan.wav", ERROR, "NaN or infinite")
    with_inf = chirp_train(384_000, 1.2, seed=9)
    with_inf[5000] = np.inf
    _float_wav(folder / "inf.wav", with_inf)
    add("inf.wav", ERROR, "NaN or infinite")
    _float_wav(folder / "huge.wav", chirp_train(384_000, 1.2, seed=10) * 1e30)
    add("huge.wav", ERROR, "far outside")
    one_hz = write_wav(folder / "one-hz.wav", chirp_train(384_000, 0.5, seed=11), 384_000)
    _header_rate(one_hz, 1)
    add("one-hz.wav", ERROR, "1 Hz")
    cut = write_wav(folder / "data-cut.wav", chirp_train(384_000, 2.0, seed=12), 384_000)
    cut.write_bytes(cut.read_bytes()[: 44 + 2 * 384_000])
    add("data-cut.wav", WARNING, "truncated")

    # Usable, with something to say.
    soundfile.write(
        folder / "phone.ogg", chirp_train(48_000, 1.2), 48_000, format="OGG", subtype="VORBIS"
    )
    add("phone.ogg", WARNING, "lossy")
    write_wav(
        folder / "lowrate.wav", chirp_train(8_000, 1.0, f_start_hz=3000, f_end_hz=2000), 8_000
    )
    add("lowrate.wav", WARNING, "assumed ×10")
    write_wav(
        folder / "year-one.wav", chirp_train(384_000, 1.0, seed=13), 384_000,
        extra_chunks=guano_chunk({"Timestamp": "0001-01-01T01:00+14:00", "Loc Position": "x"}),
    )  # fmt: skip
    add("year-one.wav", WARNING, "out of range")
    write_wav(
        folder / "bad-wamd.wav", chirp_train(38_400, 1.0, seed=14), 38_400,
        extra_chunks=wamd_chunk(time_expansion=0),
    )  # fmt: skip
    add("bad-wamd.wav", WARNING, "out of range")
    write_wav(
        folder / "guano-bytes.wav", chirp_train(384_000, 1.0, seed=15), 384_000,
        extra_chunks=b"guan" + struct.pack("<I", 6) + b"\xff\xfe\x00:\x01\x02",
    )  # fmt: skip
    add("guano-bytes.wav", OK)
    return entries
