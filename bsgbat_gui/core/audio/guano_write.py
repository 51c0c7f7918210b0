"""Writing the reviewer's species into a recording's GUANO metadata (``Species Manual ID``).

What is written (the GUANO specification, ``github.com/riggsd/guano-spec``):

* ``Species Manual ID`` — the species codes, comma-separated, most frequent first
  (:meth:`~bsgbat_gui.core.checklist.Checklist.code_for`: ``PIPPIP, NYCNOC``);
* ``TE`` — added when the file has none and the app read it with a time expansion other than 1
  (a missing TE means 1 to every other reader, so a ×10 file would pass for real time);
* ``Timestamp`` (required by the specification) — added when the file has none but the app
  knows when it was recorded (a Wildlife Acoustics ``wamd`` chunk);
* ``GUANO|Version`` first. Every other line is kept byte for byte (unknown fields, namespaces,
  order); a device's ``Species Auto ID`` is never touched.

How: every chunk is copied byte for byte — the audio included, checked by the SHA-256 of the
``data`` chunk read back from the new file — and word-aligned: a chunk of odd size gets its pad
byte when the file lacks it (SM2BAT+ files end in a 69-byte ``wamd`` without one; appending
after it made every reader see garbage), and the RIFF size is set to the new length. The new
file is checked (chunk list, RIFF size, audio hash, the field read back) before it is renamed
over the old one; a file whose layout cannot be made valid is left untouched, byte for byte,
with the reason (:class:`GuanoWriteError`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bsgbat_gui.core.audio.metadata import RiffChunk, RiffLayout, parse_guano_text, read_riff_layout
from bsgbat_gui.core.files import fsync_folder, temporary_beside

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator, Sequence

MANUAL_ID_KEY = "Species Manual ID"
VERSION_KEY = "GUANO|Version"
TE_KEY = "TE"
TIMESTAMP_KEY = "Timestamp"
GUANO_CHUNK_ID = "guan"
RIFF_MAX_BYTES = 0xFFFFFFFF  # RIFF sizes are 32-bit; bigger WAVs are RF64 (not rewritten)
_COPY_BLOCK_BYTES = 4 << 20
_WHITESPACE = b" \t\r\n\x00"


class GuanoWriteError(Exception):
    """The file was not modified, for the reason given."""


@dataclass(frozen=True)
class GuanoUpdate:
    """What to write into one recording: its species codes, and what the app knows of it."""

    path: Path
    species_codes: tuple[str, ...]
    time_expansion: float = 1.0
    timestamp: dt.datetime | None = None

    @property
    def manual_id(self) -> str:
        """The ``Species Manual ID`` value: the codes, comma-separated, on one line."""
        # A code is one item of a comma-separated list on one line.
        return ", ".join(
            " ".join(code.replace(",", " ").split()) for code in self.species_codes if code.strip()
        )


def _te_text(time_expansion: float) -> str:
    """TE as the specification types it (an integer) when it is one."""
    return str(int(time_expansion)) if float(time_expansion).is_integer() else f"{time_expansion:g}"


def _line_key(line: bytes) -> str | None:
    if b":" not in line:
        return None
    return line.split(b":", 1)[0].strip(_WHITESPACE).decode("utf-8", "replace")


def guano_body_with(original: bytes, update: GuanoUpdate) -> bytes:
    """The GUANO chunk body for ``update``: ``original``'s lines kept byte for byte, ``Species
    Manual ID`` set (in place, or added), ``TE`` and ``Timestamp`` added when absent and known,
    ``GUANO|Version`` first; padded with a space to an even length.
    """
    lines = [line for line in original.split(b"\n") if line.strip(_WHITESPACE)]
    keys = [_line_key(line) for line in lines]
    version = [line for line, key in zip(lines, keys, strict=True) if key == VERSION_KEY][:1]
    # Keys may not repeat: a second Species Manual ID line (or Version line) is dropped.
    rest = [(line, key) for line, key in zip(lines, keys, strict=True) if key != VERSION_KEY]
    out: list[bytes] = version or [b"GUANO|Version: 1.0"]
    manual_line = f"{MANUAL_ID_KEY}: {update.manual_id}".encode()
    placed = False
    present: set[str] = set()
    for line, key in rest:
        if key == MANUAL_ID_KEY:
            if not placed:
                out.append(manual_line)
                placed = True
            continue
        if key is not None:
            present.add(key)
        out.append(line)
    if TIMESTAMP_KEY not in present and update.timestamp is not None:
        out.append(f"{TIMESTAMP_KEY}: {update.timestamp.isoformat()}".encode())
    if TE_KEY not in present and update.time_expansion != 1:
        out.append(f"{TE_KEY}: {_te_text(update.time_expansion)}".encode())
    if not placed:
        out.append(manual_line)
    body = b"\n".join(out) + b"\n"
    return body + b" " if len(body) % 2 else body


def layout_problem(layout: RiffLayout) -> str | None:
    """Why ``layout`` cannot be rewritten safely (None: it can)."""
    for chunk in layout.chunks:
        if not all(0x20 <= ord(ch) <= 0x7E for ch in chunk.chunk_id):
            return (
                f"its chunk list is damaged (unreadable chunk id at byte "
                f"{chunk.body_offset - 8}): not rewritten"
            )
        if chunk.body_offset + chunk.declared_size > layout.file_size:
            return "truncated: not rewritten, so no byte of audio can be lost"
    if layout.find("fmt ") is None or layout.find("data") is None:
        return "has no fmt or data chunk: not a WAV file that can be rewritten"
    if sum(1 for c in layout.chunks if c.chunk_id == GUANO_CHUNK_ID) > 1:
        return "has two GUANO chunks: not rewritten (which one holds the truth is unknown)"
    return None


def _trailing_bytes(layout: RiffLayout) -> int:
    last = layout.chunks[-1]
    return layout.file_size - (last.body_offset + last.declared_size + (last.declared_size & 1))


def _copy(src: IO[bytes], offset: int, n: int, put: _Put) -> None:
    src.seek(offset)
    while n:
        block = src.read(min(_COPY_BLOCK_BYTES, n))
        if not block:
            raise GuanoWriteError("file changed while being rewritten: not rewritten")
        put(block)
        n -= len(block)


class _Put:
    """Writes blocks to the new file, hashing all of it and, separately, the data chunk."""

    def __init__(self, dst: IO[bytes]) -> None:
        self.dst = dst
        self.file_digest = hashlib.sha256()
        self.data_digest: hashlib._Hash | None = None
        self.written = 0

    def __call__(self, block: bytes) -> None:
        self.dst.write(block)
        self.file_digest.update(block)
        if self.data_digest is not None:
            self.data_digest.update(block)
        self.written += len(block)


def _data_sha256(path: Path, chunk: RiffChunk) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        f.seek(chunk.body_offset)
        n = chunk.declared_size
        while n:
            block = f.read(min(_COPY_BLOCK_BYTES, n))
            if not block:
                break
            digest.update(block)
            n -= len(block)
    return digest.hexdigest()


def _read_body(path: Path, chunk: RiffChunk) -> bytes:
    with path.open("rb") as f:
        f.seek(chunk.body_offset)
        return f.read(chunk.declared_size)


def _output_size(layout: RiffLayout, new_body: bytes) -> int:
    size = 12
    for chunk in layout.chunks:
        if chunk.chunk_id == GUANO_CHUNK_ID:
            continue
        size += 8 + chunk.declared_size + (chunk.declared_size & 1)
    return size + 8 + len(new_body)


def write_guano(update: GuanoUpdate) -> str:
    """Write ``update`` into its WAV file; returns the SHA-256 of the rewritten file (so a
    cache keyed by content can follow it).

    Raises :class:`GuanoWriteError` with the reason, the file untouched.
    """
    if not update.manual_id:
        raise GuanoWriteError("no species to write")
    # A link is followed: the recording it points to is rewritten, the link stays a link.
    try:
        path = Path(os.path.realpath(update.path, strict=True))
        before = path.stat()
    except (OSError, RuntimeError) as exc:
        raise GuanoWriteError(f"cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if not path.is_file():
        raise GuanoWriteError("not a regular file")
    if before.st_nlink > 1:
        raise GuanoWriteError(
            "has other hard links: rewriting would split them, so it is left as it is"
        )
    try:
        with path.open("rb") as f:
            magic = f.read(4)
        layout = read_riff_layout(path)
    except OSError as exc:
        raise GuanoWriteError(f"cannot be read ({exc.strerror or exc})") from None
    if layout is None:
        if magic in (b"RF64", b"BW64"):
            raise GuanoWriteError(f"{magic.decode()} WAV (over 4 GB): GUANO is not written into it")
        raise GuanoWriteError("not a RIFF/WAVE file (GUANO lives in WAV files)")
    problem = layout_problem(layout)
    trailing = _trailing_bytes(layout)
    if problem is None and trailing > 0:
        with path.open("rb") as f:
            f.seek(layout.file_size - trailing)
            if f.read(trailing).strip(b"\x00"):
                problem = f"{trailing} unexplained bytes after the last chunk: not rewritten"
    if problem is not None:
        raise GuanoWriteError(problem)
    # A file marked read-only is left alone even where the user could write it (root).
    read_only_file = not before.st_mode & 0o222 or not os.access(path, os.W_OK)
    if read_only_file or not os.access(path.parent, os.W_OK):
        raise GuanoWriteError("read-only (file or folder)")

    existing = layout.find(GUANO_CHUNK_ID)
    original = _read_body(path, existing) if existing is not None else b""
    body = guano_body_with(original, update)
    if _output_size(layout, body) - 8 > RIFF_MAX_BYTES:
        raise GuanoWriteError("would exceed the 4 GB a RIFF WAV can hold: not rewritten")

    fd, tmp = temporary_beside(path)
    try:
        with path.open("rb") as src, os.fdopen(fd, "wb") as dst:
            put = _Put(dst)
            source_data = ""
            put(b"RIFF" + struct.pack("<I", _output_size(layout, body) - 8) + b"WAVE")
            wrote_guano = False
            for chunk in layout.chunks:
                if chunk.chunk_id == GUANO_CHUNK_ID:
                    put(GUANO_CHUNK_ID.encode() + struct.pack("<I", len(body)) + body)
                    wrote_guano = True
                    continue
                put(chunk.chunk_id.encode("latin-1") + struct.pack("<I", chunk.declared_size))
                if chunk.chunk_id == "data":
                    put.data_digest = hashlib.sha256()
                _copy(src, chunk.body_offset, chunk.declared_size, put)
                if put.data_digest is not None:
                    source_data = put.data_digest.hexdigest()
                    put.data_digest = None
                if chunk.declared_size & 1:
                    pad_at = chunk.body_offset + chunk.declared_size
                    # The file's own pad byte when it has one, else the one it should have had.
                    put(_pad_byte(src, pad_at, layout.file_size))
            if not wrote_guano:
                put(GUANO_CHUNK_ID.encode() + struct.pack("<I", len(body)) + body)
            dst.flush()
            os.fsync(dst.fileno())
        now = path.stat()
        if (now.st_size, now.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            raise GuanoWriteError("file changed while being rewritten: not rewritten")
        _check_written(tmp, put.written, source_data, update)
        tmp.chmod(before.st_mode & 0o7777)
        # The audio is the same recording: keep its time, which tools use as the recording's.
        os.utime(tmp, ns=(before.st_atime_ns, before.st_mtime_ns))
        tmp.replace(path)
        fsync_folder(path.parent)
    except OSError as exc:
        raise GuanoWriteError(f"cannot be written ({exc.strerror or exc})") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return put.file_digest.hexdigest()


def _pad_byte(src: IO[bytes], offset: int, file_size: int) -> bytes:
    if offset >= file_size:
        return b"\x00"
    src.seek(offset)
    return src.read(1) or b"\x00"


def _check_written(tmp: Path, size: int, source_data_sha256: str, update: GuanoUpdate) -> None:
    """The new file, read back, is a valid RIFF/WAVE with the same audio and the new field."""
    layout = read_riff_layout(tmp)
    if layout is None or layout.file_size != size:
        raise GuanoWriteError("the rewritten file did not read back: not rewritten")
    with tmp.open("rb") as f:
        f.seek(4)
        (riff_size,) = struct.unpack("<I", f.read(4))
    problem = layout_problem(layout)
    if problem is not None or riff_size != size - 8 or _trailing_bytes(layout) != 0:
        raise GuanoWriteError("the rewritten file's chunk list is not valid: not rewritten")
    if any(chunk.body_offset % 2 for chunk in layout.chunks):
        raise GuanoWriteError("the rewritten file is not word-aligned: not rewritten")
    data, guan = layout.find("data"), layout.find(GUANO_CHUNK_ID)
    assert data is not None  # layout_problem checked it
    if _data_sha256(tmp, data) != source_data_sha256:
        raise GuanoWriteError("the audio did not read back identical: not rewritten")
    fields = parse_guano_text(_read_body(tmp, guan).decode("utf-8", "replace")) if guan else {}
    if fields.get(MANUAL_ID_KEY) != update.manual_id:
        raise GuanoWriteError("the new GUANO field did not read back: not rewritten")


@dataclass(frozen=True)
class GuanoWriteResult:
    """One file of a write-back: its new SHA-256, or why it was left untouched."""

    path: Path
    sha256: str = ""
    error: str = ""


def guano_plan_text(updates: Sequence[GuanoUpdate]) -> str:
    """The files a write-back will touch and what each gets, one line each (shown before the
    user is asked).
    """
    return "\n".join(f"{u.path}: {MANUAL_ID_KEY} = {u.manual_id}" for u in updates)


def write_guano_updates(updates: Sequence[GuanoUpdate]) -> Iterator[GuanoWriteResult]:
    """Write each update in turn (the command, the window's worker and its panel all use this
    one loop); a file that cannot be written is reported and the rest go on.
    """
    for update in updates:
        try:
            yield GuanoWriteResult(update.path, sha256=write_guano(update))
        except GuanoWriteError as exc:
            yield GuanoWriteResult(update.path, error=str(exc))
