"""The call measurements of a review store: each recording's calls, keyed by the call settings
they were measured with, and the survey's call settings themselves.

Measuring an hour of recording takes minutes; showing a recording's calls again (a reopened
survey, a return to a recording) is a read. A measurement carries the identity of the file it was
made on (size, modification time, content SHA-256, time expansion), so a changed file is measured
again and a file only touched (GUANO write-back, a copy) is not.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import numpy as np

from bsgbat_gui.core.calls.parameters import CALL_FIELDS, CallTable
from bsgbat_gui.core.calls.settings import CallSettings, CallSettingsError
from bsgbat_gui.core.files import canonical_path, unchanged_mtime_ns
from bsgbat_gui.core.review.connection import StoreConnection
from bsgbat_gui.core.review.decisions import now_iso

if TYPE_CHECKING:
    from pathlib import Path

    from bsgbat_gui.core.audio.recording import RecordingInfo

log = logging.getLogger(__name__)

CALL_SETTINGS_META = "call_settings"


def settings_key(settings: CallSettings) -> str:
    """The settings as the cache keys them: canonical JSON (sorted keys), so equal settings
    always find the same measurement.
    """
    return json.dumps(settings.to_dict(), sort_keys=True)


class CallRecords(StoreConnection):
    """The call measurements and call settings of a review store."""

    # -- the survey's settings -----------------------------------------------------------------

    def call_settings(self) -> CallSettings:
        """The survey's call settings (the defaults when none were saved, or when the saved
        ones cannot be used by this version: logged, never fatal).
        """
        text = self.get_meta(CALL_SETTINGS_META)
        if not text:
            return CallSettings()
        try:
            return CallSettings.from_dict(json.loads(text))
        except (ValueError, CallSettingsError) as exc:
            log.warning("%s: saved call settings not used (%s); defaults instead", self.path, exc)
            return CallSettings()

    def set_call_settings(self, settings: CallSettings) -> None:
        """Save the survey's call settings (committed on return)."""
        self.set_meta(CALL_SETTINGS_META, settings_key(settings))

    # -- measurements --------------------------------------------------------------------------

    def cached_calls(self, info: RecordingInfo, settings: CallSettings) -> CallTable | None:
        """The stored calls of ``info``'s file measured with ``settings``, if still valid: same
        size and time expansion, and the same modification time or, failing that, the same
        content SHA-256.
        """
        path = canonical_path(info.path)
        row = self._conn.execute(
            "SELECT c.size, c.mtime_ns, c.content_sha256, c.time_expansion, c.fields_json,"
            " c.n_calls, c.calls FROM call_measurements c JOIN recordings r"
            " ON c.recording_id = r.id WHERE r.path = ? AND c.settings_json = ?",
            (self.key(path), settings_key(settings)),
        ).fetchone()
        if row is None:
            return None
        size, mtime_ns, sha, te, fields_json, n_calls, blob = row
        if te != info.time_expansion:
            return None
        now = unchanged_mtime_ns(path, size, mtime_ns, sha)
        if now is None:
            return None  # the content changed: measure again
        if now != mtime_ns and not self.read_only:  # touched: not hashed again next time
            self._write(
                "UPDATE call_measurements SET mtime_ns = ? WHERE settings_json = ?"
                " AND recording_id = (SELECT id FROM recordings WHERE path = ?)",
                (now, settings_key(settings), self.key(path)),
            )
        return _table_from_blob(fields_json, n_calls, blob)

    def stored_calls(self, settings: CallSettings) -> dict[Path, CallTable]:
        """Every recording's calls measured with ``settings`` on the content its analysis was
        made from (same SHA-256), by path — for exports, which work without the recordings at
        hand.
        """
        rows = self._conn.execute(
            "SELECT r.path, c.fields_json, c.n_calls, c.calls FROM call_measurements c"
            " JOIN recordings r ON c.recording_id = r.id"
            " WHERE c.settings_json = ? AND c.content_sha256 = r.content_sha256",
            (settings_key(settings),),
        )
        found: dict[Path, CallTable] = {}
        for path_text, fields_json, n_calls, blob in rows:
            table = _table_from_blob(fields_json, n_calls, blob)
            if table is not None:
                found[self.path_of(path_text)] = table
        return found

    def save_calls(
        self,
        info: RecordingInfo,
        settings: CallSettings,
        calls: CallTable,
        content_sha256: str,
    ) -> None:
        """Keep ``calls`` of ``info``'s file, measured with ``settings``, in one transaction."""
        path = canonical_path(info.path)
        stat = path.stat()
        columns = np.empty((len(calls), len(CALL_FIELDS)), dtype="<f8")
        for i, name in enumerate(CALL_FIELDS):
            columns[:, i] = getattr(calls, name)
        blob = columns.tobytes()
        with self._transaction():
            rid = self._recording_id(path, create=True)
            self._conn.execute(
                "INSERT OR REPLACE INTO call_measurements(recording_id, settings_json, size,"
                " mtime_ns, content_sha256, time_expansion, fields_json, n_calls, calls,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rid, settings_key(settings), stat.st_size, stat.st_mtime_ns, content_sha256,
                 info.time_expansion, json.dumps(list(CALL_FIELDS)), len(calls), blob,
                 now_iso()),
            )  # fmt: skip


def _table_from_blob(fields_json: str, n_calls: int, blob: bytes) -> CallTable | None:
    """A stored measurement as a table; None when it was made by a version that measured other
    parameters (measured again).
    """
    if tuple(json.loads(fields_json)) != CALL_FIELDS or len(blob) != 8 * n_calls * len(CALL_FIELDS):
        return None
    values = np.frombuffer(blob, dtype="<f8").reshape(n_calls, len(CALL_FIELDS))
    return CallTable(
        **{name: values[:, i].astype(np.float64) for i, name in enumerate(CALL_FIELDS)}
    )
