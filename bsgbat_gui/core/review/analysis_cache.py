"""The analysis cache of a review store: every model's logits for every segment, keyed by the
recording's content and the model set (identified by its files' SHA-256).

Reopening an analysed folder shows the results without running a model; a changed file or model
set is analysed again. The recording's header, time expansion and GUANO are kept with it, so an
export works without the recordings at hand. Analysis processes write it without the window's
lock (SQLite serialises writers).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import sqlite3
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.analysis.analyse import RecordingAnalysis, windows_for
from bsgbat_gui.core.analysis.stacked import block_of, window_bounds_of
from bsgbat_gui.core.audio.metadata import RecordingMetadata, plausible_timestamp
from bsgbat_gui.core.audio.recording import RecordingError, RecordingInfo, probe_recording
from bsgbat_gui.core.files import canonical_path, sha256_file, unchanged_mtime_ns
from bsgbat_gui.core.models.locate import ModelSet, is_quantized
from bsgbat_gui.core.review.connection import StoreConnection
from bsgbat_gui.core.review.decisions import now_iso

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from bsgbat_gui.core.analysis.stacked import AnalysisBlock
    from bsgbat_gui.core.models.ensemble import CombineMethod
    from bsgbat_gui.core.review.store import ReviewStore  # the store is built on this module

log = logging.getLogger(__name__)

# An analysis as stored: what _analysis_from_row rebuilds it from, in this order.
_ANALYSIS_COLUMNS = (
    "a.labels_json, a.model_names_json, a.n_models, a.n_segments, a.n_labels, a.logits"
)


def _stored_logits_of(stored: Sequence[Any]) -> npt.NDArray[np.float32] | None:
    """The ``[n_models, n_segments, n_labels]`` logits (read-only) of an analysis' stored
    columns (:data:`_ANALYSIS_COLUMNS`), or None when the blob does not fit their shape.
    """
    _labels_json, _names_json, n_models, n_seg, n_labels, blob = stored
    if len(blob) != 4 * n_models * n_seg * n_labels:
        return None
    return np.frombuffer(blob, dtype="<f4").reshape(n_models, n_seg, n_labels)


def _stored_meta(row: Sequence[Any]) -> dict[str, Any]:
    """The metadata kept with a :meth:`AnalysisRecords._stored_rows` row."""
    return json.loads(row[5]) if row[5] else {}


def _stored_info_of(
    path: Path, meta: dict[str, Any], time_expansion: float
) -> RecordingInfo | None:
    """The header of ``path`` kept as ``meta`` with its analysis (None: kept before headers
    were stored, or unreadable).
    """
    if "header_frames" not in meta:
        return None
    try:
        return _info_from_metadata(path, float(time_expansion), meta)
    except (RecordingError, ValueError, TypeError, KeyError):
        return None


def _analysis_from_row(info: RecordingInfo, stored: Sequence[Any]) -> RecordingAnalysis | None:
    """The analysis of ``info`` from its stored columns (:data:`_ANALYSIS_COLUMNS`), or None
    when it does not fit the recording (another number of windows: the file changed).
    """
    labels_json, names_json = stored[:2]
    windows = windows_for(info)
    logits = _stored_logits_of(stored)
    if logits is None or len(windows) != logits.shape[1]:
        return None
    return RecordingAnalysis(
        info=info,
        windows=tuple(windows),
        per_model_logits=logits.astype(np.float32),
        labels=tuple(json.loads(labels_json)),
        model_names=tuple(json.loads(names_json)),
    )


class AnalysisRecords(StoreConnection):
    """The analyses and model-file hashes of a review store."""

    def cached_analysis(self, info: RecordingInfo, model_set_id: str) -> RecordingAnalysis | None:
        """The stored analysis of ``info``'s file by this model set, if still valid: same size
        and modification time, or, when only the time changed, the same content SHA-256.
        """
        path = canonical_path(info.path)
        row = self._conn.execute(
            "SELECT r.id, r.size, r.mtime_ns, r.content_sha256, a.time_expansion, "
            + _ANALYSIS_COLUMNS
            + " FROM recordings r JOIN analyses a ON a.recording_id = r.id"
            " WHERE r.path = ? AND a.model_set_id = ?",
            (self.key(path), model_set_id),
        ).fetchone()
        if row is None:
            return None
        rid, size, mtime_ns, sha, te = row[:5]
        if te != info.time_expansion or not self._still_the_file(path, rid, size, mtime_ns, sha):
            return None  # the content changed: analyse again
        return _analysis_from_row(info, row[5:])

    def _still_the_file(
        self, path: Path, rid: int, size: int, mtime_ns: int, sha: str | None
    ) -> bool:
        """:func:`unchanged_mtime_ns` on what the recordings table kept of ``path``; a touched
        file's new time is kept (not hashed again next time).
        """
        now = unchanged_mtime_ns(path, size, mtime_ns, sha)
        if now is None:
            return False
        if now != mtime_ns and not self.read_only:
            self._write("UPDATE recordings SET mtime_ns = ? WHERE id = ?", (now, rid))
        return True

    def cached_blocks(
        self,
        paths: Sequence[Path],
        model_set_id: str,
        *,
        time_expansion: float | None = None,
        combine: CombineMethod | None = None,
        first_chunk: int = 1,
        chunk: int = 2_000,
    ) -> Iterator[tuple[AnalysisBlock | None, list[Path]]]:
        """The stored analyses of ``paths`` (canonical) by this model set, a chunk at a time, in
        their order: ``(block of the valid ones, paths without one)`` per chunk. The first
        chunk holds ``first_chunk`` paths (the recording on screen), the others ``chunk``.
        With ``combine``, each block holds only its probabilities by that method (the logits
        stay here: :meth:`stored_logits`).

        The same rule as :meth:`cached_analysis`, read in one query per chunk and checked by
        ``stat``, not by opening each file: same size and modification time (or, when only the
        time changed, the same content SHA-256), the time expansion asked for (None: the one
        the file gave when analysed), and as many windows as the stored header gives. A store
        kept before headers were stored leaves those paths to the caller (a header probe each).
        """
        position, size = 0, max(1, first_chunk)
        while position < len(paths):
            part = list(paths[position : position + size])
            position += size
            size = chunk
            rows = self._stored_rows([self.key(p) for p in part], model_set_id)
            hits: list[Path] = []
            infos: list[RecordingInfo] = []
            logits: list[np.ndarray] = []
            labels: tuple[str, ...] = ()
            names: tuple[str, ...] = ()
            misses: list[Path] = []
            for path in part:
                row = rows.get(self.key(path))
                found = None if row is None else self._valid_stored(path, row, time_expansion)
                if found is None:
                    misses.append(path)
                    continue
                info, per_model = found
                if not hits and row is not None:
                    labels, names = tuple(json.loads(row[7])), tuple(json.loads(row[8]))
                hits.append(path)
                infos.append(info)
                logits.append(per_model)
            block = (
                block_of(hits, infos, logits, labels, names, combine=combine,
                         model_set_id=model_set_id)
                if hits
                else None
            )  # fmt: skip
            yield block, misses

    def stored_records(
        self, paths: Sequence[Path], model_set_id: str
    ) -> dict[Path, tuple[RecordingInfo, npt.NDArray[np.float32]]]:
        """:meth:`stored_logits` with each recording's header as kept with its analysis, read
        in one query per 500 recordings (a path kept without a header is left out: the caller
        reads it on its own).
        """
        keys = dict(zip(self.keys(paths), paths, strict=True))
        found: dict[Path, tuple[RecordingInfo, npt.NDArray[np.float32]]] = {}
        for key, row in self._stored_rows(list(keys), model_set_id).items():
            path = keys[key]
            info = _stored_info_of(path, _stored_meta(row), row[6])
            logits = _stored_logits_of(row[7:])
            if info is not None and logits is not None:
                found[path] = (info, logits)
        return found

    def stored_logits(
        self, paths: Sequence[Path], model_set_id: str
    ) -> dict[Path, npt.NDArray[np.float32]]:
        """Each of ``paths``' (canonical) per-model logits kept by this model set,
        ``[n_models, n_segments, n_labels]`` (read-only); a path without one is left out. No
        check against the file: for analyses already checked when read (:meth:`cached_blocks`).
        """
        keys = dict(zip(self.keys(paths), paths, strict=True))
        found: dict[Path, npt.NDArray[np.float32]] = {}
        for key, row in self._stored_rows(list(keys), model_set_id).items():
            logits = _stored_logits_of(row[7:])
            if logits is not None:
                found[keys[key]] = logits
        return found

    def _stored_rows(self, keys: Sequence[str], model_set_id: str) -> dict[str, Any]:
        rows: dict[str, Any] = {}
        for first in range(0, len(keys), 500):  # well under SQLite's limit on parameters
            part = keys[first : first + 500]
            for row in self._conn.execute(
                "SELECT r.path, r.id, r.size, r.mtime_ns, r.content_sha256, r.metadata_json,"
                " a.time_expansion, " + _ANALYSIS_COLUMNS
                + " FROM recordings r JOIN analyses a ON a.recording_id = r.id"
                f" WHERE a.model_set_id = ? AND r.path IN ({', '.join('?' * len(part))})",
                (model_set_id, *part),
            ):  # fmt: skip
                rows[row[0]] = row
        return rows

    def _valid_stored(
        self, path: Path, row: Sequence[Any], time_expansion: float | None
    ) -> tuple[RecordingInfo, np.ndarray] | None:
        """The header and ``[n_models, n_segments, n_labels]`` logits of a stored row, when it
        is still the analysis of the file at ``path`` (see :meth:`cached_blocks`).
        """
        _, rid, size, mtime_ns, sha, _meta_json, te = row[:7]
        if time_expansion is not None and te != time_expansion:
            return None
        meta = _stored_meta(row)
        if "header_frames" not in meta:
            return None  # kept before headers were stored: the caller probes the file
        if not self._still_the_file(path, rid, size, mtime_ns, sha):
            return None  # the content changed: analyse again
        info, logits = _stored_info_of(path, meta, te), _stored_logits_of(row[7:])
        if info is None or logits is None or len(window_bounds_of(info)[0]) != logits.shape[1]:
            return None
        return info, logits

    def recording_info(self, path: Path) -> RecordingInfo | None:
        """The header of ``path`` as the store kept it with its analysis (None when it kept
        none): what the window shows of a recording it has not opened.
        """
        row = self._conn.execute(
            "SELECT r.metadata_json, a.time_expansion FROM recordings r JOIN analyses a"
            " ON a.recording_id = r.id WHERE r.path = ? ORDER BY a.created_at DESC LIMIT 1",
            (self.key(path),),
        ).fetchone()
        if row is None or not row[0]:
            return None
        return _stored_info_of(path, json.loads(row[0]), row[1])

    def save_analysis(
        self, analysis: RecordingAnalysis, model_set_id: str, content_sha256: str
    ) -> None:
        """Keep ``analysis`` (all its models' logits) for next time, in one transaction."""
        info = analysis.info
        path = canonical_path(info.path)
        key = self.key(path)
        stat = path.stat()
        logits = np.ascontiguousarray(analysis.per_model_logits, dtype="<f4")
        metadata = {
            "header_rate_hz": info.header_rate_hz,
            "header_frames": info.header_frames,
            "format": info.format,
            "subtype": info.subtype,
            "channels": info.channels,
            "time_expansion_source": info.time_expansion_source,
            "timestamp": info.metadata.timestamp.isoformat() if info.metadata.timestamp else "",
            "latitude": info.metadata.latitude,
            "longitude": info.metadata.longitude,
            "guano": info.metadata.guano,
        }
        with self._transaction():
            previous = self._conn.execute(
                "SELECT id, content_sha256 FROM recordings WHERE path = ?", (key,)
            ).fetchone()
            if previous is not None and previous[1] != content_sha256:
                # The file's content changed: analyses of the old content, by any model set,
                # are stale.
                self._conn.execute("DELETE FROM analyses WHERE recording_id = ?", (previous[0],))
            self._conn.execute(
                "INSERT INTO recordings(path, size, mtime_ns, content_sha256, time_expansion,"
                " metadata_json) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(path) DO UPDATE SET size = excluded.size,"
                " mtime_ns = excluded.mtime_ns, content_sha256 = excluded.content_sha256,"
                " time_expansion = excluded.time_expansion, metadata_json = excluded.metadata_json",
                (key, stat.st_size, stat.st_mtime_ns, content_sha256,
                 info.time_expansion, json.dumps(metadata, default=str)),
            )  # fmt: skip
            rid = self._conn.execute("SELECT id FROM recordings WHERE path = ?", (key,)).fetchone()[
                0
            ]
            self._conn.execute(
                "INSERT OR REPLACE INTO analyses(recording_id, model_set_id, time_expansion,"
                " labels_json, model_names_json, n_models, n_segments, n_labels, logits,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rid, model_set_id, info.time_expansion, json.dumps(list(analysis.labels)),
                 json.dumps(list(analysis.model_names)), *logits.shape, logits.tobytes(),
                 now_iso()),
            )  # fmt: skip

    def analysis_model_sets(self, paths: Sequence[Path] | None = None) -> dict[Path, str]:
        """The model set of each recording's (or of ``paths``') latest stored analysis (for
        exports).
        """
        query = (
            "SELECT r.path, a.model_set_id FROM recordings r JOIN analyses a"
            " ON a.recording_id = r.id"
        )
        if paths is None:
            rows = self._conn.execute(query + " ORDER BY a.created_at").fetchall()
            return {self.path_of(path): set_id for path, set_id in rows}
        keys = dict(zip(self.keys(paths), paths, strict=True))
        found: dict[Path, str] = {}
        wanted = list(keys)
        for first in range(0, len(wanted), 500):  # well under SQLite's limit on parameters
            part = wanted[first : first + 500]
            for key, set_id in self._conn.execute(
                query + f" WHERE r.path IN ({', '.join('?' * len(part))}) ORDER BY a.created_at",
                part,
            ):
                found[keys[key]] = set_id  # the latest one last
        return found

    def stored_analyses(
        self, *, chunk: int = 256
    ) -> Iterator[tuple[Path, str, RecordingAnalysis | str]]:
        """Every recording's latest stored analysis, in the order of its absolute path (as
        text): ``(path, model_set_id, analysis)``, or ``(path, model_set_id, reason)`` when it
        cannot be rebuilt.

        Read ``chunk`` recordings at a time: a caller that handles each and lets it go (an
        export of a season) holds one chunk of analyses, never the store's. The recording is
        described from what the store kept (header, time expansion, GUANO), so an export works
        without the recordings at hand; a store written before the header was kept probes the
        file's header instead.
        """
        keys = self._conn.execute(
            "SELECT DISTINCT r.id, r.path FROM recordings r JOIN analyses a"
            " ON a.recording_id = r.id"
        ).fetchall()
        ordered = sorted((str(self.path_of(key)), rid) for rid, key in keys)
        del keys
        for first in range(0, len(ordered), chunk):
            part = ordered[first : first + chunk]
            ids = [rid for _, rid in part]
            rows: dict[int, Any] = {}
            for row in self._conn.execute(
                "SELECT r.id, r.path, r.metadata_json, a.model_set_id, a.time_expansion, "
                + _ANALYSIS_COLUMNS
                + " FROM recordings r JOIN analyses a ON a.recording_id = r.id"
                f" WHERE r.id IN ({', '.join('?' * len(ids))})"
                " AND a.created_at = (SELECT MAX(created_at) FROM analyses b"
                "                     WHERE b.recording_id = r.id)",
                ids,
            ):
                rows.setdefault(row[0], row)  # two analyses made in the same second: one
            for _, rid in part:
                row = rows.get(rid)
                if row is None:  # deleted since the first query
                    continue
                path_text, meta_json, set_id, te = row[1:5]
                path = self.path_of(path_text)
                try:
                    info = _info_from_metadata(path, float(te), json.loads(meta_json))
                except RecordingError as exc:
                    yield path, set_id, f"not in the store and cannot be read: {exc}"
                    continue
                analysis = _analysis_from_row(info, row[5:])
                if analysis is None:
                    yield path, set_id, "stored analysis does not fit the recording (file changed?)"
                else:
                    yield path, set_id, analysis

    def file_rewritten(self, path: Path, content_sha256: str) -> None:
        """Record that ``path`` was rewritten by us with its audio unchanged (GUANO write-back),
        so its cached analyses stay valid.
        """
        path = canonical_path(path)
        stat = path.stat()
        self._write(
            "UPDATE recordings SET size = ?, mtime_ns = ?, content_sha256 = ? WHERE path = ?",
            (stat.st_size, stat.st_mtime_ns, content_sha256, self.key(path)),
        )

    def model_sha256_file(self, path: Path) -> str:
        """SHA-256 of a (large) model file, remembered by path, size and modification time."""
        path = canonical_path(path)
        stat = path.stat()
        row = self._conn.execute(
            "SELECT sha256 FROM file_hashes WHERE path = ? AND size = ? AND mtime_ns = ?",
            (str(path), stat.st_size, stat.st_mtime_ns),
        ).fetchone()
        if row is not None:
            return str(row[0])
        digest = sha256_file(path)
        if not self.read_only:
            self._write(
                "INSERT OR REPLACE INTO file_hashes VALUES (?, ?, ?, ?)",
                (str(path), stat.st_size, stat.st_mtime_ns, digest),
            )
        return digest


def _info_from_metadata(path: Path, time_expansion: float, meta: dict[str, Any]) -> RecordingInfo:
    if "header_frames" not in meta:
        return probe_recording(path, time_expansion=time_expansion)
    timestamp = None
    if meta.get("timestamp"):
        with contextlib.suppress(ValueError):
            timestamp = dt.datetime.fromisoformat(meta["timestamp"])
        if timestamp is not None and not plausible_timestamp(timestamp):
            timestamp = None  # kept by an older version that did not check
    return RecordingInfo(
        path=path,
        header_rate_hz=int(meta["header_rate_hz"]),
        channels=int(meta.get("channels", 1)),
        header_frames=int(meta["header_frames"]),
        format=str(meta.get("format", "")),
        subtype=str(meta.get("subtype", "")),
        time_expansion=time_expansion,
        time_expansion_source=str(meta.get("time_expansion_source", "")),
        metadata=RecordingMetadata(
            guano=dict(meta.get("guano") or {}),
            timestamp=timestamp,
            latitude=meta.get("latitude"),
            longitude=meta.get("longitude"),
        ),
    )


def model_set_id(model_set: ModelSet, store: AnalysisRecords | None = None) -> str:
    """A model set's identity: SHA-256 over its files' SHA-256 and its labels, so a replaced,
    quantised or retrained model makes every cached analysis stale.
    """
    digest = hashlib.sha256()
    for path in sorted(model_set.model_paths, key=lambda p: p.name):
        file_hash = store.model_sha256_file(path) if store is not None else sha256_file(path)
        digest.update(f"{path.name}:{file_hash}\n".encode())
    digest.update("\n".join(model_set.labels).encode())
    # A quantised copy says so in its identity, hence in every export's model_set column.
    return digest.hexdigest() + ("-int8" if is_quantized(model_set.folder) else "")


class StoreCache:
    """A review store as the analysis cache of one model set (see
    :class:`~bsgbat_gui.core.analysis.analyse.AnalysisCache`).

    A store that cannot be read or written makes analyses run uncached, never fail: the error is
    logged and kept in :attr:`problem` for the caller to report once.
    """

    def __init__(self, store: ReviewStore, model_set: ModelSet) -> None:
        self.store = store
        self.model_set = model_set
        self._model_set_id: str | None = None
        self.problem = ""

    @property
    def model_set_id(self) -> str:
        """The model set's identity (hashed once, then remembered)."""
        if self._model_set_id is None:
            self._model_set_id = model_set_id(self.model_set, self.store)
        return self._model_set_id

    def lookup(self, info: RecordingInfo) -> RecordingAnalysis | None:
        """The cached analysis of ``info``'s file, if valid (store errors: None, reported once)."""
        try:
            return self.store.cached_analysis(info, self.model_set_id)
        except (sqlite3.Error, OSError) as exc:
            self._report(f"cannot read the analysis cache: {exc}")
            return None

    def keep(self, analysis: RecordingAnalysis) -> None:
        """Cache ``analysis`` (store errors reported once, never raised)."""
        if self.store.read_only:
            return
        try:
            self.store.save_analysis(analysis, self.model_set_id, sha256_file(analysis.info.path))
        except (sqlite3.Error, OSError) as exc:
            self._report(f"cannot save to the analysis cache: {exc}")

    def _report(self, problem: str) -> None:
        log.warning("%s: %s", self.store.path, problem)
        self.problem = problem
