"""Checking an installed model set: checksums, the I/O contract, labels, opsets.

Used by ``models verify`` / ``models list``. Loading a model into ONNX Runtime is the real test of
the contract (input ``spectrogram`` float32 [batch, 1, 512, 128], output ``logits`` [batch, n]
with n = the labels file's length); the ONNX opset is read from the file's protobuf header
without the ``onnx`` package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from bsgbat_gui.core.files import sha256_file
from bsgbat_gui.core.model_card import CHECKSUMS_FILENAME, LABELS_FILENAME, MODEL_FILENAMES
from bsgbat_gui.core.models.locate import ModelSetError, read_checksums, read_model_set

if TYPE_CHECKING:
    from pathlib import Path

CHECKSUM_OK = "verified"
CHECKSUM_BAD = "MISMATCH"
CHECKSUM_UNLISTED = "not in SHA256SUMS"
CHECKSUM_SKIPPED = "not checked"


@dataclass(frozen=True)
class ModelFileReport:
    """What ``models verify`` found for one model file."""

    name: str
    size_bytes: int
    checksum: str  # one of the CHECKSUM_* values
    opset: int | None = None
    input_shape: str = ""
    output_shape: str = ""
    problem: str = ""


@dataclass(frozen=True)
class ModelSetReport:
    """What ``models verify`` found for a model-set folder."""

    folder: Path
    origin: str
    files: tuple[ModelFileReport, ...] = ()
    n_labels: int = 0
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """Whether every file is present, loads and matches its checksum."""
        return not self.problems


def _varint(f: BinaryIO) -> int | None:
    shift = result = 0
    while True:
        byte = f.read(1)
        if not byte:
            return None
        result |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return result
        shift += 7
        if shift > 63:
            raise ValueError("malformed varint")


def onnx_default_opset(path: Path) -> int | None:
    """The default-domain opset of an ONNX file (ModelProto field 8), or None if unreadable."""
    try:
        with path.open("rb") as f:
            best: int | None = None
            while (key := _varint(f)) is not None:
                number, wire = key >> 3, key & 7
                if wire == 0:
                    _varint(f)
                elif wire == 1:
                    f.seek(8, 1)
                elif wire == 5:
                    f.seek(4, 1)
                elif wire == 2:
                    length = _varint(f)
                    if length is None:
                        return best
                    if number != 8:
                        f.seek(length, 1)  # the graph: tens of MB, skipped
                        continue
                    domain, version = _opset_entry(f.read(length))
                    if domain in ("", "ai.onnx"):
                        best = version
                else:
                    return best
            return best
    except (OSError, ValueError):
        return None


def _opset_entry(data: bytes) -> tuple[str, int | None]:
    import io

    f = io.BytesIO(data)
    domain, version = "", None
    while (key := _varint(f)) is not None:
        number, wire = key >> 3, key & 7
        if wire == 2:
            length = _varint(f) or 0
            value = f.read(length)
            if number == 1:
                domain = value.decode("utf-8", "replace")
        elif wire == 0:
            v = _varint(f)
            if number == 2:
                version = v
        else:
            break
    return domain, version


def check_model_set(folder: Path, *, origin: str = "", load: bool = True) -> ModelSetReport:
    """Check every file of the set in ``folder``; ``load`` also loads each model into ONNX
    Runtime to check its I/O contract.
    """
    try:
        model_set = read_model_set(folder, origin=origin)
    except ModelSetError as exc:
        return ModelSetReport(folder, origin, problems=(str(exc),))
    problems: list[str] = []
    checksums = read_checksums(folder)
    if not checksums:
        problems.append(f"{CHECKSUMS_FILENAME} missing: the files cannot be verified")
    absent = [name for name in MODEL_FILENAMES if not (folder / name).is_file()]
    if absent:
        problems.append(
            f"{len(absent)} of {len(MODEL_FILENAMES)} models missing: {', '.join(absent)}"
        )
    if (
        LABELS_FILENAME in checksums
        and sha256_file(folder / LABELS_FILENAME) != checksums[LABELS_FILENAME]
    ):
        problems.append(f"{LABELS_FILENAME}: checksum MISMATCH")
    reports = []
    for path in model_set.model_paths:
        report = _check_file(path, checksums, len(model_set.labels), load)
        if report.checksum == CHECKSUM_BAD:
            problems.append(f"{path.name}: checksum MISMATCH (damaged or a different release)")
        elif report.checksum == CHECKSUM_UNLISTED and checksums:
            problems.append(f"{path.name}: not listed in {CHECKSUMS_FILENAME}")
        if report.problem:
            problems.append(report.problem)
        reports.append(report)
    return ModelSetReport(folder, origin, tuple(reports), len(model_set.labels), tuple(problems))


def _check_file(
    path: Path, checksums: dict[str, str], n_labels: int, load: bool
) -> ModelFileReport:
    size = path.stat().st_size
    expected = checksums.get(path.name)
    if expected is None:
        checksum = CHECKSUM_UNLISTED
    else:
        checksum = CHECKSUM_OK if sha256_file(path) == expected else CHECKSUM_BAD
    opset = onnx_default_opset(path)
    if not load:
        return ModelFileReport(path.name, size, checksum, opset)
    from bsgbat_gui.core.models.ensemble import describe_io, load_session

    try:
        session = load_session(path, n_labels)
    except ModelSetError as exc:
        return ModelFileReport(path.name, size, checksum, opset, problem=str(exc))
    input_shape, output_shape = describe_io(session)
    return ModelFileReport(path.name, size, checksum, opset, input_shape, output_shape)
