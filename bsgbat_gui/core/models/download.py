"""Downloading the BSG-BAT release: resumable, verified, atomic.

:func:`download_model_set` is a generator (progress events, ``should_stop``), driven by the
``models download`` command and by the GUI's download thread alike. For every file:

* it is fetched to ``NAME.part``; an existing ``.part`` (an interrupted run) is resumed with an
  HTTP ``Range`` request, and a connection dropped mid-file is resumed the same way, a few times;
* the finished ``.part`` is checked against the release's ``SHA256SUMS`` and only then renamed to
  its final name (an atomic rename); a file that fails the check is deleted and reported;
* ``SHA256SUMS`` itself is placed last, so a folder with it holds a complete, verified set.

Every failure (offline, 404, 5xx, dropped connection, full disk, unwritable folder) is one
:class:`DownloadError` with a message meant for the user.
"""

from __future__ import annotations

import errno
import http.client
import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bsgbat_gui.core.files import sha256_file
from bsgbat_gui.core.model_card import CHECKSUMS_FILENAME, LABELS_FILENAME, MODEL_FILENAMES
from bsgbat_gui.core.models.locate import parse_checksums

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

DEFAULT_BASE_URL = "https://huggingface.co/tphakala/BSG-BAT/resolve/main"
REQUIRED_FILES = (LABELS_FILENAME, *MODEL_FILENAMES)
OPTIONAL_FILES = ("original_code/mel128_freq9k_150k.txt",)
PART_SUFFIX = ".part"
TIMEOUT_S = 30.0
RETRIES_PER_FILE = 3
CHUNK_BYTES = 1 << 18
USER_AGENT = "bsgbat-gui model downloader"


class DownloadError(Exception):
    """A download failed; the message says what happened and what to do."""


@dataclass(frozen=True)
class FileStarted:
    """A model-set file began downloading."""

    name: str
    index: int  # 0-based among the files to fetch
    count: int
    total_bytes: int | None  # None when the server does not say
    resumed_from: int  # bytes already on disk from an earlier attempt


@dataclass(frozen=True)
class BytesReceived:
    """Download progress of the current file."""

    name: str
    done_bytes: int
    total_bytes: int | None


@dataclass(frozen=True)
class FileInstalled:
    """A file was downloaded, verified and put in place."""

    name: str
    path: Path
    already_present: bool  # it was there and verified: nothing fetched


@dataclass(frozen=True)
class FileSkipped:
    """A file already present with the right checksum was kept."""

    name: str
    reason: str  # an optional file the release does not have


DownloadEvent = FileStarted | BytesReceived | FileInstalled | FileSkipped


def _never_stop() -> bool:
    return False


class _Stopped(Exception):
    pass


def _describe_url_error(url: str, exc: BaseException) -> str:
    host = urlsplit(url).netloc or url
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code == 404:
            return f"not found on the server (HTTP 404): {url}"
        if exc.code >= 500:
            return f"the server failed (HTTP {exc.code}) for {url}; try again later"
        return f"the server refused the request (HTTP {exc.code}) for {url}"
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.timeout | TimeoutError):
        return f"no answer from {host} within {TIMEOUT_S:.0f} s (offline? proxy?)"
    return f"cannot reach {host} ({reason}); check the internet connection or --base-url"


def _open(url: str, offset: int = 0) -> http.client.HTTPResponse:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    return response


def _fetch_small(url: str) -> bytes:
    try:
        with _open(url) as response:
            return bytes(response.read())
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise DownloadError(_describe_url_error(url, exc)) from exc


def _disk_error(path: Path, exc: OSError) -> DownloadError:
    if exc.errno == errno.ENOSPC:
        return DownloadError(f"the disk is full while writing {path}; free some space and rerun")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return DownloadError(f"cannot write {path}: permission denied (choose another --dest)")
    return DownloadError(f"cannot write {path}: {exc.strerror or exc}")


def _total_from(response: http.client.HTTPResponse, offset: int) -> int | None:
    content_range = response.headers.get("Content-Range", "")
    if "/" in content_range and content_range.rsplit("/", 1)[1].strip().isdigit():
        return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("Content-Length")
    if length is not None and length.strip().isdigit():
        return int(length) + (offset if response.status == 206 else 0)
    return None


def _fetch_to_part(
    url: str,
    part: Path,
    name: str,
    index: int,
    count: int,
    should_stop: Callable[[], bool],
) -> Iterator[DownloadEvent]:
    """Fetch ``url`` into ``part``, resuming what is there; retries dropped connections."""
    announced = False
    last_error = ""
    for _attempt in range(RETRIES_PER_FILE):
        offset = part.stat().st_size if part.exists() else 0
        try:
            response = _open(url, offset)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and offset:  # asked past the end: the .part may be complete
                return
            raise DownloadError(_describe_url_error(url, exc)) from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise DownloadError(_describe_url_error(url, exc)) from exc
        with response:
            if offset and response.status != 206:
                offset = 0  # the server ignored Range: start the file again
            total = _total_from(response, offset)
            if not announced:
                yield FileStarted(name, index, count, total, offset)
                announced = True
            done = offset
            try:
                with part.open("r+b" if offset else "wb") as out:
                    out.seek(offset)
                    out.truncate()
                    while True:
                        if should_stop():
                            raise _Stopped
                        chunk = response.read(CHUNK_BYTES)
                        if not chunk:
                            break
                        out.write(chunk)
                        done += len(chunk)
                        yield BytesReceived(name, done, total)
                    out.flush()
                    os.fsync(out.fileno())
            except OSError as exc:
                if isinstance(exc, ConnectionError | socket.timeout | TimeoutError):
                    last_error = f"{exc}"
                    continue
                raise _disk_error(part, exc) from exc
            except http.client.IncompleteRead as exc:
                last_error = f"incomplete read ({exc})"
                continue
            if total is not None and done < total:
                last_error = f"the connection closed at {done} of {total} bytes"
                continue
            return
    raise DownloadError(
        f"the connection kept dropping while downloading {name} ({last_error}); "
        "run the command again to resume where it stopped"
    )


def download_model_set(
    dest: Path,
    base_url: str = DEFAULT_BASE_URL,
    *,
    should_stop: Callable[[], bool] = _never_stop,
) -> Iterator[DownloadEvent]:
    """Download, verify and install the release's files into ``dest`` (see the module doc).

    Stops quietly when ``should_stop()`` turns true; what was fetched stays as ``.part`` files
    for the next run to resume.

    Raises
    ------
    DownloadError
        Network, server, checksum or disk problems; nothing half-written is left under a final
        name.
    """
    base = base_url.rstrip("/")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _disk_error(dest, exc) from exc
    if not os.access(dest, os.W_OK):
        raise DownloadError(f"cannot write to {dest}: permission denied (choose another --dest)")

    checksums_text = _fetch_small(f"{base}/{CHECKSUMS_FILENAME}").decode("utf-8", "replace")
    checksums = parse_checksums(checksums_text)
    missing = [name for name in REQUIRED_FILES if name not in checksums]
    if missing:
        raise DownloadError(
            f"the release's {CHECKSUMS_FILENAME} has no checksum for {', '.join(missing)}; "
            "refusing to install unverifiable files"
        )
    names = list(REQUIRED_FILES) + [name for name in OPTIONAL_FILES if name in checksums]
    try:
        for index, name in enumerate(names):
            yield from _install_one(
                base, dest, name, checksums[name], index, len(names), should_stop
            )
    except _Stopped:
        return
    for name in OPTIONAL_FILES:
        if name not in checksums:
            yield FileSkipped(name, "not in this release")
    target = dest / CHECKSUMS_FILENAME
    part = target.with_name(target.name + PART_SUFFIX)
    try:
        part.write_text(checksums_text, encoding="utf-8")
        part.replace(target)
    except OSError as exc:
        raise _disk_error(target, exc) from exc
    yield FileInstalled(CHECKSUMS_FILENAME, target, already_present=False)


def _install_one(
    base: str,
    dest: Path,
    name: str,
    expected_sha256: str,
    index: int,
    count: int,
    should_stop: Callable[[], bool],
) -> Iterator[DownloadEvent]:
    final = dest / name
    if final.is_file() and sha256_file(final) == expected_sha256:
        yield FileInstalled(name, final, already_present=True)
        return
    part = final.with_name(final.name + PART_SUFFIX)
    try:
        part.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _disk_error(part.parent, exc) from exc
    resumed = part.exists()
    yield from _fetch_to_part(f"{base}/{name}", part, name, index, count, should_stop)
    actual = sha256_file(part)
    if actual != expected_sha256 and resumed:
        # The .part may be from an older release of the file: fetch it whole, once.
        part.unlink(missing_ok=True)
        yield from _fetch_to_part(f"{base}/{name}", part, name, index, count, should_stop)
        actual = sha256_file(part)
    if actual != expected_sha256:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"{name} does not match the release's checksum (got {actual[:12]}…, expected "
            f"{expected_sha256[:12]}…); the download was deleted. Try again later; if it "
            "persists, the file on the server is damaged"
        )
    try:
        part.replace(final)
    except OSError as exc:
        raise _disk_error(final, exc) from exc
    yield FileInstalled(name, final, already_present=False)
