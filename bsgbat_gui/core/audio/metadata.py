"""Recording metadata read straight from the RIFF chunks: GUANO and Wildlife Acoustics ``wamd``.

Why our own reader: common GUANO readers go through Python's ``wave`` module, which cannot open
24-bit WAVE_FORMAT_EXTENSIBLE or float files, and they give up on a whole file over one odd field.
Here a file's metadata never stops the file from opening: anything that cannot be parsed becomes
a warning and the audio is still analysed.
"""

from __future__ import annotations

import datetime as dt
import logging
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)

# Wildlife Acoustics wamd record ids. Numbering starts at 0 (version), as written by Kaleidoscope
# and SM2BAT+ (checked on a real SM2BAT+ file: id 0x000F holds the time-expansion factor).
WAMD_VERSION = 0x0000
WAMD_MODEL = 0x0001
WAMD_SERIAL = 0x0002
WAMD_FIRMWARE = 0x0003
WAMD_PREFIX = 0x0004
WAMD_TIMESTAMP = 0x0005
WAMD_SOFTWARE = 0x0008
WAMD_AUTO_ID = 0x000B
WAMD_MANUAL_ID = 0x000C
WAMD_TIME_EXPANSION = 0x000F

_WAMD_TEXT_FIELDS = {
    WAMD_MODEL: "model",
    WAMD_SERIAL: "serial",
    WAMD_FIRMWARE: "firmware",
    WAMD_PREFIX: "prefix",
    WAMD_TIMESTAMP: "timestamp",
    WAMD_SOFTWARE: "software",
    WAMD_AUTO_ID: "auto_id",
    WAMD_MANUAL_ID: "manual_id",
}

# Recording dates outside these years are a recorder's clock gone wrong (0001-01-01 is valid ISO
# 8601): ignored with a warning, so that no date arithmetic ever leaves the calendar.
PLAUSIBLE_YEARS = range(1900, 2201)

# Never read a metadata chunk bigger than this into memory: real GUANO/wamd chunks are < 64 KiB.
_MAX_METADATA_CHUNK_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class RiffChunk:
    """One chunk of a RIFF/WAVE file: its id, where its body starts, and its declared size."""

    chunk_id: str
    body_offset: int
    declared_size: int


@dataclass(frozen=True)
class RiffLayout:
    """The chunk list of a RIFF/WAVE file, and whether the data chunk is complete."""

    chunks: tuple[RiffChunk, ...]
    file_size: int

    def find(self, chunk_id: str) -> RiffChunk | None:
        """The first chunk with this id, if any."""
        for chunk in self.chunks:
            if chunk.chunk_id == chunk_id:
                return chunk
        return None

    @property
    def data_bytes_missing(self) -> int:
        """Bytes the ``data`` chunk declares but the file does not hold (0 when complete)."""
        data = self.find("data")
        if data is None:
            return 0
        return max(0, data.body_offset + data.declared_size - self.file_size)


@dataclass(frozen=True)
class RecordingMetadata:
    """What a recording says about itself.

    ``guano`` keeps every GUANO field verbatim (namespaced keys such as ``OAD|Battery Voltage``
    included) so nothing is lost when it is shown or written back. The typed attributes are the
    fields the application uses, ``None`` when absent or unparseable.
    """

    guano: dict[str, str] = field(default_factory=dict)
    wamd: dict[str, str] = field(default_factory=dict)
    timestamp: dt.datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    guano_time_expansion: float | None = None
    wamd_time_expansion: int | None = None
    warnings: tuple[str, ...] = ()

    @property
    def make_model(self) -> str:
        """The recorder's make and model, as far as the metadata says."""
        parts = [
            self.guano.get("Make", ""),
            self.guano.get("Model", "") or self.wamd.get("model", ""),
        ]
        return " ".join(p for p in parts if p)


def read_riff_layout(path: Path) -> RiffLayout | None:
    """Walk the chunk headers of a RIFF/WAVE file without reading sample data.

    Returns ``None`` for anything that is not RIFF/WAVE (FLAC, RF64, text...). A chunk whose size
    runs past the end of the file ends the walk (truncated files are common in the field).
    """
    file_size = path.stat().st_size
    chunks: list[RiffChunk] = []
    with path.open("rb") as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return None
        pos = 12
        while pos + 8 <= file_size:
            f.seek(pos)
            raw = f.read(8)
            if len(raw) < 8:
                break
            chunk_id = raw[:4].decode("latin-1")
            (size,) = struct.unpack("<I", raw[4:8])
            chunks.append(RiffChunk(chunk_id=chunk_id, body_offset=pos + 8, declared_size=size))
            pos += 8 + size + (size & 1)
    return RiffLayout(chunks=tuple(chunks), file_size=file_size)


def _read_chunk_body(path: Path, chunk: RiffChunk) -> bytes:
    size = min(chunk.declared_size, _MAX_METADATA_CHUNK_BYTES)
    with path.open("rb") as f:
        f.seek(chunk.body_offset)
        return f.read(size)


def parse_guano_text(text: str) -> dict[str, str]:
    """Split GUANO text into ``{key: value}``, keys with their namespace (``WA|Song Meter|Prefix``).

    Lines are split at the first ``:``; blank lines and lines without ``:`` are skipped; values
    are stripped (GUANO pads with spaces and some writers with NULs).
    """
    fields: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.strip("\x00 \t")
        if not line or ":" not in line:
            continue
        key, value = line.split(":", 1)
        fields[key.strip()] = value.strip("\x00 \t")
    return fields


def parse_guano_timestamp(value: str) -> dt.datetime:
    """Parse GUANO's ISO 8601 subset: local time, ``Z`` or ``±HH:MM`` (also ``±HHMM``).

    Raises ``ValueError`` when the value is not a timestamp.
    """
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python 3.10's fromisoformat does not take "+0100"; normalise it to "+01:00".
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and "T" in text:
        text = text[:-2] + ":" + text[-2:]
    return dt.datetime.fromisoformat(text)


def plausible_timestamp(moment: dt.datetime) -> bool:
    """Whether ``moment`` can be a recording's start (see :data:`PLAUSIBLE_YEARS`)."""
    try:
        utc_year = (moment - (moment.utcoffset() or dt.timedelta())).year
    except OverflowError:
        return False
    return moment.year in PLAUSIBLE_YEARS and utc_year in PLAUSIBLE_YEARS


def _parse_position(value: str) -> tuple[float, float]:
    parts = value.replace(",", " ").split()
    if len(parts) != 2:
        raise ValueError(value)
    lat, lon = float(parts[0]), float(parts[1])
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(value)
    return lat, lon


def parse_wamd(body: bytes) -> tuple[dict[str, str], int | None]:
    """Parse a ``wamd`` chunk: records of (id uint16, length uint32, value).

    Returns the text fields by name and the time-expansion factor (``None`` when absent).
    """
    fields: dict[str, str] = {}
    time_expansion: int | None = None
    pos = 0
    while pos + 6 <= len(body):
        record_id, length = struct.unpack("<HI", body[pos : pos + 6])
        value = body[pos + 6 : pos + 6 + length]
        pos += 6 + length
        if record_id == WAMD_TIME_EXPANSION and len(value) >= 2:
            (time_expansion,) = struct.unpack("<H", value[:2])
        elif record_id in _WAMD_TEXT_FIELDS:
            fields[_WAMD_TEXT_FIELDS[record_id]] = value.decode("utf-8", "replace").strip("\x00 ")
    return fields, time_expansion


def read_metadata(path: Path, layout: RiffLayout | None) -> RecordingMetadata:
    """Read GUANO and wamd metadata; never raises for malformed metadata (it becomes a warning)."""
    if layout is None:
        return RecordingMetadata()
    warnings: list[str] = []
    guano: dict[str, str] = {}
    wamd: dict[str, str] = {}
    wamd_te: int | None = None

    guan_chunk = layout.find("guan")
    if guan_chunk is not None:
        try:
            guano = parse_guano_text(_read_chunk_body(path, guan_chunk).decode("utf-8", "replace"))
        except OSError as exc:
            warnings.append(f"GUANO metadata could not be read ({exc})")
    wamd_chunk = layout.find("wamd")
    if wamd_chunk is not None:
        try:
            wamd, wamd_te = parse_wamd(_read_chunk_body(path, wamd_chunk))
        except (OSError, struct.error) as exc:
            warnings.append(f"wamd metadata could not be read ({exc})")

    timestamp: dt.datetime | None = None
    raw_timestamp = guano.get("Timestamp") or wamd.get("timestamp")
    if raw_timestamp:
        try:
            timestamp = parse_guano_timestamp(raw_timestamp)
        except ValueError:
            warnings.append(f"metadata timestamp {raw_timestamp!r} is not ISO 8601; ignored")
        if timestamp is not None and not plausible_timestamp(timestamp):
            warnings.append(
                f"metadata timestamp {raw_timestamp!r} is out of range (the recorder's clock?); "
                "ignored"
            )
            timestamp = None

    latitude = longitude = None
    if guano.get("Loc Position"):
        try:
            latitude, longitude = _parse_position(guano["Loc Position"])
        except ValueError:
            warnings.append(
                f"GUANO 'Loc Position' {guano['Loc Position']!r} is not 'lat lon'; ignored"
            )

    guano_te: float | None = None
    if guano.get("TE"):
        try:
            guano_te = float(guano["TE"])
            if not 1.0 <= guano_te <= 100.0:
                raise ValueError(guano["TE"])
        except ValueError:
            warnings.append(f"GUANO 'TE' {guano['TE']!r} is not a time-expansion factor; ignored")
            guano_te = None
    if wamd_te is not None and not 1 <= wamd_te <= 100:
        warnings.append(f"wamd time-expansion {wamd_te} is out of range; ignored")
        wamd_te = None

    return RecordingMetadata(
        guano=guano,
        wamd=wamd,
        timestamp=timestamp,
        latitude=latitude,
        longitude=longitude,
        guano_time_expansion=guano_te,
        wamd_time_expansion=wamd_te,
        warnings=tuple(warnings),
    )
