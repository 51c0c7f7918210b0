"""Writing the reviewer's species into a recording's GUANO metadata (``Species Manual ID``).

Only the ``guan`` chunk changes: every other chunk, the sample data included, is copied byte for
byte, and every other GUANO line is kept as it was (unknown fields, order, namespaces). A file
without GUANO gets a new ``guan`` chunk at the end. The new file is written next to the old one
and renamed over it only when complete, so a crash leaves either file, never a mix; a file that
cannot be rewritten safely (truncated, not RIFF/WAVE, read-only) is left untouched and says why.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
from collections.abc import Sequence
from pathlib import Path

from bsgbat_gui.core.export import temporary_beside
from bsgbat_gui.core.metadata import read_riff_layout

MANUAL_ID_KEY = "Species Manual ID"
GUANO_CHUNK_ID = b"guan"
_COPY_CHUNK_BYTES = 4 << 20


class GuanoWriteError(Exception):
    """The file was not modified, for the reason given."""


def guano_text_with(original: str, key: str, value: str) -> str:
    """``original`` GUANO text with ``key`` set to ``value``: its line replaced in place, or
    added at the end; every other line kept verbatim."""
    lines = original.replace("\r\n", "\n").rstrip(" \x00\n").split("\n") if original else []
    lines = [line for line in lines if line.strip(" \x00")]
    if not lines or not lines[0].startswith("GUANO|Version"):
        lines.insert(0, "GUANO|Version: 1.0")
    new_line = f"{key}: {value}"
    for i, line in enumerate(lines):
        if ":" in line and line.split(":", 1)[0].strip() == key:
            lines[i] = new_line
            break
    else:
        lines.append(new_line)
    return "\n".join(lines) + "\n"


def write_manual_id(path: Path, species: Sequence[str]) -> str:
    """Set ``Species Manual ID`` in ``path`` to ``species`` (comma-separated).

    Returns the SHA-256 of the rewritten file (so a cache keyed by content can follow it).
    Raises :class:`GuanoWriteError` with the reason, the file untouched.
    """
    value = ", ".join(s.replace(",", " ").strip() for s in species)
    try:
        layout = read_riff_layout(path)
    except OSError as exc:
        raise GuanoWriteError(f"cannot be read ({exc.strerror or exc})") from None
    if layout is None:
        raise GuanoWriteError("not a RIFF/WAVE file (GUANO lives in WAV files)")
    data = layout.find("data")
    if data is None:
        raise GuanoWriteError("has no data chunk")
    last = layout.chunks[-1]
    if layout.data_bytes_missing or last.body_offset + last.declared_size > layout.file_size:
        raise GuanoWriteError("truncated: not rewritten, so no byte of audio can be lost")
    if not os.access(path.parent, os.W_OK) or not os.access(path, os.W_OK):
        raise GuanoWriteError("read-only (file or folder)")

    existing = layout.find("guan")
    original_text = ""
    if existing is not None:
        with path.open("rb") as f:
            f.seek(existing.body_offset)
            original_text = f.read(existing.declared_size).decode("utf-8", errors="replace")
    body = guano_text_with(original_text, MANUAL_ID_KEY, value).encode("utf-8")
    if len(body) % 2:
        body += b" "  # GUANO pads with a space to keep the chunk word-aligned

    # Each kept chunk is copied whole (header, body, pad byte when the file has it).
    spans = [
        (c.body_offset - 8,
         min(8 + c.declared_size + (c.declared_size & 1), layout.file_size - c.body_offset + 8))
        for c in layout.chunks
        if c.chunk_id != "guan"
    ]  # fmt: skip
    riff_size = 4 + sum(n for _, n in spans) + 8 + len(body)
    fd, tmp = temporary_beside(path)
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:

            def put(block: bytes) -> None:
                dst.write(block)
                digest.update(block)

            put(b"RIFF" + struct.pack("<I", riff_size) + b"WAVE")
            for offset, n in spans:
                src.seek(offset)
                while n:
                    block = src.read(min(_COPY_CHUNK_BYTES, n))
                    if not block:
                        raise GuanoWriteError("file changed while being rewritten")
                    put(block)
                    n -= len(block)
            put(GUANO_CHUNK_ID + struct.pack("<I", len(body)) + body)
            dst.flush()
            os.fsync(dst.fileno())
        shutil.copymode(path, tmp)
        tmp.replace(path)
    except OSError as exc:
        raise GuanoWriteError(f"cannot be written ({exc.strerror or exc})") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return digest.hexdigest()
