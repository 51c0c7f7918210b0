"""Writing files safely, and hashing them: the one place every write of the application goes
through.

A file is written all-or-nothing: into a temporary file beside its target, flushed and fsynced,
given the mode the target should have, renamed over the target, and the folder fsynced so that a
power cut cannot lose the new name. A crash or a kill at any moment leaves the old file or the
complete new one, never a mix; the temporary a killed writer leaves is removed by the next write
of the same target.

Modes: a new file gets the mode the user's umask gives any new file (``mkstemp`` alone would make
every export private, 0600); a replaced file keeps the mode it had.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, AnyStr, Generic

if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import TracebackType

# A temporary left this long ago is not being written any more: its writer was killed.
STALE_TEMPORARY_S = 3600.0
_HASH_BLOCK_BYTES = 4 << 20

_umask_lock = threading.Lock()


def sha256_file(path: Path, *, block_bytes: int = _HASH_BLOCK_BYTES) -> str:
    """SHA-256 of a file's content (hex), read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(block_bytes):
            digest.update(block)
    return digest.hexdigest()


def canonical_path(path: Path) -> Path:
    """``path`` absolute, its folder's links and ``..`` resolved — the one form in which the
    application compares and stores recording paths. The file itself keeps its name even when
    it is a link: a survey folder of links to recordings elsewhere is reviewed under the names
    the user gave them. Never raises (a link loop is left for the file's reader to report).
    """
    if path.name in ("", ".", ".."):
        return Path(os.path.realpath(path))
    return Path(os.path.realpath(path.parent)) / path.name


def unchanged_mtime_ns(
    path: Path, size: int, mtime_ns: int, content_sha256: str | None
) -> int | None:
    """The file's modification time now (ns) when its content is still the one kept with
    ``size``, ``mtime_ns`` and ``content_sha256``: same size, and the same time or, when only
    the time changed (copied, touched), the same SHA-256; None when it changed or is gone.

    The rule every cache of the review store applies before reusing what it kept of a file; a
    caller whose time differs from the one returned keeps the new one, so the file is hashed
    once, not at every look.
    """
    try:
        stat = path.stat()
    except OSError:
        return None
    if stat.st_size != size:
        return None
    if stat.st_mtime_ns != mtime_ns and (not content_sha256 or sha256_file(path) != content_sha256):
        return None
    return stat.st_mtime_ns


def canonical_paths(paths: Iterable[Path]) -> list[Path]:
    """:func:`canonical_path` of many paths, each folder resolved once (a season's folder of
    100,000 recordings is a hundred folders, not 100,000 ``realpath`` walks).
    """
    folders: dict[Path, Path] = {}
    found = []
    for path in paths:
        if path.name in ("", ".", ".."):
            found.append(canonical_path(path))
            continue
        parent = path.parent
        real = folders.get(parent)
        if real is None:
            real = folders[parent] = Path(os.path.realpath(parent))
        found.append(real / path.name)
    return found


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux), else by
    setting and restoring it (the only portable way to read it).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
        return mask


def new_file_mode() -> int:
    """The mode a newly created regular file gets from the user's umask."""
    return 0o666 & ~current_umask()


def fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    if sys.platform == "win32":
        return
    try:
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # some file systems refuse fsync on a folder
            os.fsync(fd)
    finally:
        os.close(fd)


def temporary_beside(path: Path) -> tuple[int, Path]:
    """A new temporary file in ``path``'s folder (open fd, path), named after ``path``, for
    writing ``path`` all-or-nothing by renaming it over ``path``.

    Temporaries of ``path`` that a killed writer left behind (older than
    :data:`STALE_TEMPORARY_S`) are removed first, so a crash does not leave litter — for a WAV
    rewritten with GUANO, a full copy of the recording — beside the user's files for ever.
    """
    folder = path.parent if str(path.parent) else Path()
    prefix = f".{path.name}."
    cutoff = time.time() - STALE_TEMPORARY_S
    # Cleaning is a courtesy: the write goes on whatever it meets.
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                        Path(entry.path).unlink()
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
    return fd, Path(tmp)


def replace_with(tmp: Path, target: Path) -> None:
    """Rename the complete temporary ``tmp`` over ``target``: ``tmp`` takes the mode ``target``
    has (or a new file's mode), and the rename is made durable.
    """
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = new_file_mode()
    tmp.chmod(mode)
    tmp.replace(target)
    fsync_folder(target.parent)


class _AtomicFile(Generic[AnyStr]):
    """Write a file all-or-nothing: ``with AtomicTextFile(path) as f: ...``.

    On success the temporary file (in the target's folder) is flushed, fsynced and renamed over
    ``path`` (:func:`replace_with`); on an exception it is deleted and ``path`` is untouched.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp_path: Path | None = None
        self._file: IO[AnyStr] | None = None

    def _open(self, fd: int) -> IO[AnyStr]:
        raise NotImplementedError

    def __enter__(self) -> IO[AnyStr]:
        fd, self._tmp_path = temporary_beside(self.path)
        self._file = self._open(fd)
        return self._file

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._file is not None
        assert self._tmp_path is not None
        try:
            if exc_type is None:
                self._file.flush()
                os.fsync(self._file.fileno())
            self._file.close()
            if exc_type is None:
                replace_with(self._tmp_path, self.path)
        finally:
            if self._tmp_path.exists():
                self._tmp_path.unlink()


class AtomicTextFile(_AtomicFile[str]):
    """A text file written all-or-nothing (UTF-8; newlines as written)."""

    def __init__(self, path: Path, *, encoding: str = "utf-8", newline: str = "") -> None:
        super().__init__(path)
        self._encoding = encoding
        self._newline = newline

    def _open(self, fd: int) -> IO[str]:
        return os.fdopen(fd, "w", encoding=self._encoding, newline=self._newline)


class AtomicBinaryFile(_AtomicFile[bytes]):
    """A binary file (an audio clip) written all-or-nothing."""

    def _open(self, fd: int) -> IO[bytes]:
        return os.fdopen(fd, "wb")
