"""The window's call-measurement job (run in a compute process, like the spectrogram jobs).

Measuring the calls of a long recording takes seconds to minutes of numpy work; in a child
process it never competes with the event loop for the GIL. What it yields crosses back to the
window: progress, then the measured table with the identity of the file it was measured on (so
the window can keep it in the review store).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bsgbat_gui.core.audio.recording import RecordingInfo, probe_recording
from bsgbat_gui.core.calls.detect import iter_calls
from bsgbat_gui.core.calls.parameters import CallTable
from bsgbat_gui.core.files import sha256_file
from bsgbat_gui.core.review.connection import StoreError
from bsgbat_gui.core.review.store import ReviewStore

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from bsgbat_gui.core.calls.settings import CallSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallsProgress:
    """How far the measurement of ``path`` has got (real seconds)."""

    path: Path
    done_s: float
    duration_s: float


@dataclass(frozen=True)
class CallsMeasured:
    """The calls of ``info``'s recording, measured with ``settings`` on the content whose
    SHA-256 is ``content_sha256``; ``store_problem`` says why they could not be kept in the
    review store ("" when kept, or when no store was given).
    """

    info: RecordingInfo
    settings: CallSettings
    calls: CallTable
    content_sha256: str
    store_problem: str = ""


# One store connection per compute process, kept across jobs (as the analysis jobs do).
_stores: dict[Path, ReviewStore] = {}


def _keep(store_path: Path, measured: CallsMeasured) -> str:
    """Keep ``measured`` in the review store here, in the compute process: the committed write
    (an fsync) never happens on the window's thread. The problem, or "".
    """
    try:
        store = _stores.get(store_path)
        if store is None:
            store = _stores[store_path] = ReviewStore.open(store_path, exclusive=False)
        store.save_calls(measured.info, measured.settings, measured.calls, measured.content_sha256)
    except (StoreError, sqlite3.Error, OSError) as exc:
        log.warning("%s: calls not kept: %s", store_path, exc)
        return str(exc)
    return ""


def calls_job(
    path: Path,
    time_expansion: float | None,
    settings: CallSettings,
    store_path: Path | None = None,
    *,
    should_stop: Callable[[], bool],
) -> Iterator[CallsProgress | CallsMeasured]:
    """Measure the calls of the recording at ``path`` and keep them in the review store at
    ``store_path`` (if given); nothing more is yielded once ``should_stop()`` turns true (the
    window moved on). Raises ``RecordingError``.
    """
    info = probe_recording(path, time_expansion=time_expansion)
    # Hashed before reading: a file changed during the measurement is then measured again
    # next time rather than cached under the new content's hash.
    content_sha256 = sha256_file(path)
    rows: list[tuple[float, ...]] = []
    for found in iter_calls(info, settings, should_stop=should_stop):
        rows.extend(found.rows)
        yield CallsProgress(path, found.done_s, found.duration_s)
    if should_stop():
        return
    measured = CallsMeasured(info, settings, CallTable.from_rows(rows), content_sha256)
    if store_path is not None:
        measured = replace(measured, store_problem=_keep(store_path, measured))
    yield measured
