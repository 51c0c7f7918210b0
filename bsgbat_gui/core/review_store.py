"""The review store: one SQLite database per survey holding what must never be lost or redone.

* **recordings** — path, size, modification time, content SHA-256, time expansion, metadata, and
  the recording-level review (reviewed, "no bats", a manual species list);
* **analyses** — every model's logits for every segment, a cache keyed by the recording's content
  and the model set (identified by its files' SHA-256): reopening an analysed folder shows the
  results without running a model; a changed file or model set is analysed again;
* **decisions** — every review decision on a detection event (confirmed / rejected /
  relabelled, note, reviewer, time), stored with the event's species and span so that it stays
  attached when thresholds reshape the event (see :func:`attach_decisions`);
* **meta** — thresholds, combine method, the selection.

Recordings are kept by their path **relative to the survey folder** (the store's own folder, or
for a store kept in the user data folder the folder it reviews), so a survey folder copied or
moved to another disk or computer keeps its review and its cache; the content SHA-256 keeps the
cache valid when a copy changed the files' times. Paths outside the survey folder are kept
absolute. The API takes and returns absolute paths.

Durability: WAL journal with ``synchronous=FULL`` and autocommit: a decision is on disk when
:meth:`ReviewStore.put_decision` returns, and killing the process at any moment loses nothing
committed. One window at a time writes a store: the first takes an exclusive lock
(``STORE.lock``, released by the OS when the process dies, so a crash never leaves a stale
lock); a second opens it read-only and says so. Analysis processes write the analysis cache
without that lock (SQLite serialises writers).

The schema has a version (``PRAGMA user_version``) and a list of migrations; a store made by an
older version is upgraded in place, in one transaction, when opened for writing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import sqlite3
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.analysis import RecordingAnalysis, windows_for
from bsgbat_gui.core.audio import RecordingError, RecordingInfo, probe_recording
from bsgbat_gui.core.files import canonical_path, sha256_file
from bsgbat_gui.core.metadata import RecordingMetadata, plausible_timestamp
from bsgbat_gui.core.models import APP_NAME, ModelSet, is_quantized

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

log = logging.getLogger(__name__)

STORE_FILENAME = "bsgbat-review.sqlite"
BUSY_TIMEOUT_S = 10.0

STATUS_CONFIRMED = "confirmed"
STATUS_REJECTED = "rejected"
STATUS_RELABELLED = "relabelled"
DECISION_STATUSES = (STATUS_CONFIRMED, STATUS_REJECTED, STATUS_RELABELLED)
MIN_OVERLAP_FRACTION = 0.25  # of the shorter span: see attach_decisions
# Relabel targets besides the model's species.
OTHER_LABELS = ("unidentified bat", "social call", "noise", "feeding buzz", "not a bat")

# Migration i upgrades a store from version i to version i + 1.
MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: the first schema.
    """
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE recordings(
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        content_sha256 TEXT,
        time_expansion REAL,
        metadata_json TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE analyses(
        recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
        model_set_id TEXT NOT NULL,
        time_expansion REAL NOT NULL,
        labels_json TEXT NOT NULL,
        model_names_json TEXT NOT NULL,
        n_models INTEGER NOT NULL,
        n_segments INTEGER NOT NULL,
        n_labels INTEGER NOT NULL,
        logits BLOB NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY(recording_id, model_set_id)
    );
    CREATE TABLE decisions(
        id INTEGER PRIMARY KEY,
        recording_id INTEGER NOT NULL REFERENCES recordings(id),
        species TEXT NOT NULL,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        status TEXT NOT NULL CHECK(status IN ('confirmed', 'rejected', 'relabelled')),
        final_species TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '',
        reviewer TEXT NOT NULL DEFAULT '',
        decided_at TEXT NOT NULL
    );
    CREATE INDEX decisions_by_recording ON decisions(recording_id, species);
    """,
    # 1 -> 2: recording-level review; a hash cache for model files.
    """
    ALTER TABLE recordings ADD COLUMN reviewed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE recordings ADD COLUMN no_bats INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE recordings ADD COLUMN manual_species_json TEXT NOT NULL DEFAULT '[]';
    CREATE TABLE file_hashes(
        path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL
    );
    """,
    # 2 -> 3: recording paths relative to the survey folder (see _relative_keys, run with it).
    "",
)
RELATIVE_KEYS_VERSION = 3
SQLITE_HEADER = b"SQLite format 3\x00"
SURVEY_ROOT_META = "survey_root"  # for a store kept away from its survey folder
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The store cannot be used (not a database, made by a newer version, unwritable…)."""


class StoreReadOnly(StoreError):
    """A write to a store opened read-only."""


@dataclass(frozen=True)
class Decision:
    """A review decision on one detection event (its species and span when decided)."""

    path: Path
    species: str
    start_s: float
    end_s: float
    status: str
    final_species: str = ""  # the confirmed or relabelled species ("" when rejected)
    note: str = ""
    reviewer: str = ""
    decided_at: str = ""  # ISO 8601 with the UTC offset
    id: int | None = None


@dataclass(frozen=True)
class RecordingReview:
    """A reviewer's marks on a whole recording: reviewed, no bats, species list."""

    reviewed: bool = False
    no_bats: bool = False
    manual_species: tuple[str, ...] = ()


def now_iso() -> str:
    """The local time with its UTC offset, to the second."""
    return dt.datetime.now().astimezone().replace(microsecond=0).isoformat()


def survey_folder(paths: Sequence[Path]) -> Path:
    """The folder a set of opened paths reviews: the opened folder, or the first file's."""
    first = paths[0]
    return canonical_path(first if first.is_dir() else first.parent)


def default_store_path(paths: Sequence[Path]) -> Path:
    """``bsgbat-review.sqlite`` in the opened folder (or the first file's folder)."""
    return survey_folder(paths) / STORE_FILENAME


def fallback_store_path(folder: Path) -> Path:
    """Where the store of a read-only ``folder`` goes: the user data folder, one file per
    survey folder, named after it (plus a hash of its path, so two "night1" folders differ).
    """
    from platformdirs import user_data_path

    tag = hashlib.sha1(str(canonical_path(folder)).encode()).hexdigest()[:10]
    return user_data_path(APP_NAME, appauthor=False) / "reviews" / f"{folder.name}-{tag}.sqlite"


def writable_store_path(paths: Sequence[Path]) -> Path:
    """The default store path, or the fallback when its folder cannot be written."""
    preferred = default_store_path(paths)
    if preferred.exists() and os.access(preferred, os.W_OK):
        return preferred
    if not preferred.exists() and os.access(preferred.parent, os.W_OK | os.X_OK):
        return preferred
    return fallback_store_path(preferred.parent)


def path_key(path: Path, root: Path) -> str:
    """How the store keeps ``path``: relative to ``root`` with ``/`` separators when inside it
    (portable between computers), else absolute.
    """
    path = canonical_path(path)
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def key_path(key: str, root: Path) -> Path:
    """The absolute path a stored key stands for (see :func:`path_key`)."""
    return Path(key) if Path(key).is_absolute() else root.joinpath(*key.split("/"))


def _refuse_foreign_file(path: Path) -> None:
    """A file at ``path`` that is not a review store is never opened as one: SQLite would turn
    an empty file (or one of another program) into a new store.
    """
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise StoreError(
            f"{path}: an empty file (0 bytes), not a review store; it was left as it is "
            "(move it away to start a new store)"
        )
    if head != SQLITE_HEADER:
        raise StoreError(f"{path}: not a review store (not an SQLite database); left as it is")


class _InstanceLock:
    """An exclusive advisory lock on ``STORE.lock`` (released by the OS on process death)."""

    def __init__(self, store_path: Path) -> None:
        self.path = store_path.with_name(store_path.name + ".lock")
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        try:
            f = open(self.path, "a+b")  # noqa: SIM115 - held for the store's lifetime
        except OSError:
            return False
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        self._file = f
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the lock
            self._file = None


class ReviewStore:
    """A survey's review store. Open with :meth:`open`; every write is committed at once."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, read_only: bool, lock: _InstanceLock | None,
        root: Path | None = None,
    ) -> None:  # fmt: skip
        self.path = path
        self._conn = conn
        self.read_only = read_only
        self._lock = lock
        self.root = root or path.parent  # the survey folder that paths are kept relative to
        self._recording_ids: dict[Path, int] = {}

    def key(self, path: Path) -> str:
        """How this store keeps ``path`` (relative to :attr:`root` when inside it)."""
        return path_key(path, self.root)

    def path_of(self, key: str) -> Path:
        """The absolute path of a stored key."""
        return key_path(key, self.root)

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: Path, *, exclusive: bool = True, survey_root: Path | None = None
    ) -> ReviewStore:
        """Open (creating or upgrading) the store at ``path``.

        ``exclusive``: the window's mode — take the instance lock, or open read-only when another
        window holds it. Analysis processes and ``analyze --project`` pass False: they only add
        to the analysis cache. ``survey_root``: the folder the store reviews, when the store is
        not in it (a read-only survey's store in the user data folder); kept in the store.
        A file that is not a review store is never changed. Raises :class:`StoreError`.
        """
        path = canonical_path(path)
        _refuse_foreign_file(path)
        lock: _InstanceLock | None = None
        read_only = False
        if exclusive:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{path.parent}: cannot create ({exc.strerror or exc})") from None
            lock = _InstanceLock(path)
            if not lock.acquire():
                lock = None
                read_only = True
                if not path.exists():
                    raise StoreError(f"{path}: another bsgbat-gui is creating this store")
        try:
            if read_only:
                conn = sqlite3.connect(
                    f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                    isolation_level=None, check_same_thread=False,
                )  # fmt: skip
            else:
                conn = sqlite3.connect(
                    path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
                )
            store = cls(path, conn, read_only, lock)
            store._prepare(survey_root)
        except sqlite3.DatabaseError as exc:
            if lock is not None:
                lock.release()
            raise StoreError(f"{path}: not a usable review store ({exc})") from None
        except StoreError:
            if lock is not None:
                lock.release()
            raise
        return store

    def _prepare(self, survey_root: Path | None) -> None:
        conn = self._conn
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise StoreError("an SQLite database of another program, not a review store")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"made by a newer bsgbat-gui (store schema {version}, this version reads up to "
                f"{SCHEMA_VERSION}); update bsgbat-gui to open it"
            )
        if self.read_only:
            if version < SCHEMA_VERSION:
                raise StoreError(
                    f"schema {version} needs upgrading, but the store is open read-only"
                )
            self._set_root(survey_root)
            return
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # committed = on disk, power cut included
        conn.execute("PRAGMA foreign_keys=ON")
        if version < SCHEMA_VERSION:
            migrate(conn, version, root=canonical_path(survey_root or self.path.parent))
        if survey_root is not None and self.get_meta(SURVEY_ROOT_META) != str(survey_root):
            self.set_meta(SURVEY_ROOT_META, str(canonical_path(survey_root)))
        self._set_root(survey_root)

    def _set_root(self, survey_root: Path | None) -> None:
        stored = self.get_meta(SURVEY_ROOT_META)
        if survey_root is not None:
            self.root = canonical_path(survey_root)
        elif stored:
            self.root = Path(stored)

    def close(self) -> None:
        """Close the connection and release the window's lock."""
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        if self.read_only:
            raise StoreReadOnly(f"{self.path} is open read-only")
        return self._conn.execute(sql, params)

    # -- recordings ---------------------------------------------------------------------------

    def _recording_id(self, path: Path, *, create: bool = False) -> int | None:
        path = canonical_path(path)
        known = self._recording_ids.get(path)
        if known is not None:
            return known
        row = self._conn.execute(
            "SELECT id FROM recordings WHERE path = ?", (self.key(path),)
        ).fetchone()
        if row is None and create:
            stat = path.stat()
            cursor = self._write(
                "INSERT INTO recordings(path, size, mtime_ns) VALUES (?, ?, ?)",
                (self.key(path), stat.st_size, stat.st_mtime_ns),
            )
            row = (cursor.lastrowid,)
        if row is None:
            return None
        self._recording_ids[path] = int(row[0])
        return int(row[0])

    def recording_review(self, path: Path) -> RecordingReview:
        """The marks of one recording (none when never marked)."""
        row = self._conn.execute(
            "SELECT reviewed, no_bats, manual_species_json FROM recordings WHERE path = ?",
            (self.key(path),),
        ).fetchone()
        if row is None:
            return RecordingReview()
        return RecordingReview(bool(row[0]), bool(row[1]), tuple(json.loads(row[2])))

    def recording_reviews(self) -> dict[Path, RecordingReview]:
        """Every recording's review marks, in one query (recordings never marked: absent)."""
        rows = self._conn.execute(
            "SELECT path, reviewed, no_bats, manual_species_json FROM recordings"
        ).fetchall()
        return {
            self.path_of(r[0]): RecordingReview(bool(r[1]), bool(r[2]), tuple(json.loads(r[3])))
            for r in rows
        }

    def set_recording_review(self, path: Path, review: RecordingReview) -> None:
        """Store a recording's marks (committed on return)."""
        rid = self._recording_id(path, create=True)
        self._write(
            "UPDATE recordings SET reviewed = ?, no_bats = ?, manual_species_json = ? "
            "WHERE id = ?",
            (int(review.reviewed), int(review.no_bats), json.dumps(list(review.manual_species)),
             rid),
        )  # fmt: skip

    # -- the analysis cache -----------------------------------------------------------------

    def cached_analysis(self, info: RecordingInfo, model_set_id: str) -> RecordingAnalysis | None:
        """The stored analysis of ``info``'s file by this model set, if still valid: same size
        and modification time, or, when only the time changed, the same content SHA-256.
        """
        path = canonical_path(info.path)
        row = self._conn.execute(
            "SELECT r.id, r.size, r.mtime_ns, r.content_sha256, a.time_expansion, a.labels_json,"
            " a.model_names_json, a.n_models, a.n_segments, a.n_labels, a.logits"
            " FROM recordings r JOIN analyses a ON a.recording_id = r.id"
            " WHERE r.path = ? AND a.model_set_id = ?",
            (self.key(path), model_set_id),
        ).fetchone()
        if row is None:
            return None
        rid, size, mtime_ns, sha, te, labels_json, names_json, n_models, n_seg, n_labels, blob = row
        try:
            stat = path.stat()
        except OSError:
            return None
        if stat.st_size != size or te != info.time_expansion:
            return None
        if stat.st_mtime_ns != mtime_ns:
            if not sha or sha256_file(path) != sha:
                return None  # the content changed: analyse again
            if not self.read_only:
                self._write(
                    "UPDATE recordings SET mtime_ns = ? WHERE id = ?", (stat.st_mtime_ns, rid)
                )
        windows = windows_for(info)
        if len(windows) != n_seg or len(blob) != 4 * n_models * n_seg * n_labels:
            return None
        logits = np.frombuffer(blob, dtype="<f4").reshape(n_models, n_seg, n_labels)
        return RecordingAnalysis(
            info=info,
            windows=tuple(windows),
            per_model_logits=logits.astype(np.float32),
            labels=tuple(json.loads(labels_json)),
            model_names=tuple(json.loads(names_json)),
        )

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
        self._write("BEGIN IMMEDIATE")
        try:
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
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def analysis_model_sets(self) -> dict[Path, str]:
        """The model set of each recording's latest stored analysis (for exports)."""
        rows = self._conn.execute(
            "SELECT r.path, a.model_set_id FROM recordings r JOIN analyses a"
            " ON a.recording_id = r.id ORDER BY a.created_at"
        ).fetchall()
        return {self.path_of(path): set_id for path, set_id in rows}

    def stored_analyses(self) -> Iterator[tuple[Path, str, RecordingAnalysis | str]]:
        """Every recording's latest stored analysis, by path: ``(path, model_set_id, analysis)``,
        or ``(path, model_set_id, reason)`` when it cannot be rebuilt.

        The recording is described from what the store kept (header, time expansion, GUANO), so
        an export works without the recordings at hand; a store written before the header was
        kept probes the file's header instead.
        """
        rows = self._conn.execute(
            "SELECT r.path, r.metadata_json, a.model_set_id, a.time_expansion, a.labels_json,"
            " a.model_names_json, a.n_models, a.n_segments, a.n_labels, a.logits"
            " FROM recordings r JOIN analyses a ON a.recording_id = r.id"
            " WHERE a.created_at = (SELECT MAX(created_at) FROM analyses b"
            "                       WHERE b.recording_id = r.id)"
            " ORDER BY r.path"
        )
        seen: set[str] = set()
        for path_text, meta_json, set_id, te, labels_json, names_json, n_models, n_seg, n_labels, \
                blob in rows:  # fmt: skip
            if path_text in seen:  # two analyses made in the same second: the first is enough
                continue
            seen.add(path_text)
            path = self.path_of(path_text)
            try:
                info = _info_from_metadata(path, float(te), json.loads(meta_json))
            except RecordingError as exc:
                yield path, set_id, f"not in the store and cannot be read: {exc}"
                continue
            windows = windows_for(info)
            if len(windows) != n_seg or len(blob) != 4 * n_models * n_seg * n_labels:
                yield path, set_id, "stored analysis does not fit the recording (file changed?)"
                continue
            logits = np.frombuffer(blob, dtype="<f4").reshape(n_models, n_seg, n_labels)
            yield (
                path,
                set_id,
                RecordingAnalysis(
                    info=info,
                    windows=tuple(windows),
                    per_model_logits=logits.astype(np.float32),
                    labels=tuple(json.loads(labels_json)),
                    model_names=tuple(json.loads(names_json)),
                ),
            )

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

    # -- decisions ------------------------------------------------------------------------------

    def put_decision(self, decision: Decision) -> Decision:
        """Store a decision (a new one, or replace the one with its id); committed on return."""
        if decision.status not in DECISION_STATUSES:
            raise ValueError(f"unknown decision status {decision.status!r}")
        decided_at = decision.decided_at or now_iso()
        rid = self._recording_id(decision.path, create=True)
        values = (
            rid, decision.species, decision.start_s, decision.end_s, decision.status,
            decision.final_species, decision.note, decision.reviewer, decided_at,
        )  # fmt: skip
        if decision.id is None:
            cursor = self._write(
                "INSERT INTO decisions(recording_id, species, start_s, end_s, status,"
                " final_species, note, reviewer, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            return replace(
                decision, path=canonical_path(decision.path), id=cursor.lastrowid,
                decided_at=decided_at,
            )  # fmt: skip
        self._write(
            "INSERT OR REPLACE INTO decisions(recording_id, species, start_s, end_s, status,"
            " final_species, note, reviewer, decided_at, id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, decision.id),
        )
        return replace(decision, path=canonical_path(decision.path), decided_at=decided_at)

    def delete_decision(self, decision_id: int) -> None:
        """Remove a decision (committed on return)."""
        self._write("DELETE FROM decisions WHERE id = ?", (decision_id,))

    def apply_changes(
        self, changes: Sequence[tuple[Decision | None, Decision | None]]
    ) -> list[Decision | None]:
        """Replace each ``before`` by its ``after`` (None: no decision), all in one transaction
        (an import of many rows is either all in the store or not at all). Returns the stored
        ``after`` decisions (with their ids).
        """
        if self.read_only:
            raise StoreReadOnly(f"{self.path} is open read-only")
        stored: list[Decision | None] = []
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for before, after in changes:
                if after is None:
                    if before is not None and before.id is not None:
                        self.delete_decision(before.id)
                    stored.append(None)
                else:
                    stored.append(self.put_decision(after))
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        return stored

    def decisions(self) -> list[Decision]:
        """Every decision, in the order made (by id)."""
        rows = self._conn.execute(
            "SELECT r.path, d.species, d.start_s, d.end_s, d.status, d.final_species, d.note,"
            " d.reviewer, d.decided_at, d.id FROM decisions d"
            " JOIN recordings r ON r.id = d.recording_id ORDER BY d.id"
        ).fetchall()
        return [Decision(self.path_of(r[0]), *r[1:]) for r in rows]

    # -- meta ----------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """A stored setting (thresholds, selection, …), if set."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting (committed on return)."""
        self._write("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def schema_version(self) -> int:
        """The store's schema version."""
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])


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


def migrate(
    conn: sqlite3.Connection,
    from_version: int,
    to_version: int = SCHEMA_VERSION,
    *,
    root: Path | None = None,
) -> None:
    """Apply the migrations from ``from_version`` up to ``to_version``, all in one transaction
    (a failure leaves the store as it was). ``root``: the survey folder, for the move to
    relative paths (version 3).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        for version in range(from_version, to_version):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            if version + 1 == RELATIVE_KEYS_VERSION and root is not None:
                _relative_keys(conn, root)
        conn.execute(f"PRAGMA user_version = {to_version}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _moved_key(path: Path, root: Path) -> str | None:
    """The key of an absolute ``path`` recorded before the survey folder moved to ``root``: the
    longest tail of it that names an existing file under ``root``.
    """
    parts = path.parts[1:]
    for start in range(len(parts)):
        tail = parts[start:]
        if root.joinpath(*tail).is_file():
            return "/".join(tail)
    return None


def _relative_keys(conn: sqlite3.Connection, root: Path) -> None:
    """Version 3: every absolute recording path becomes relative to the survey folder — also
    when the folder was moved or copied since (the path's tail found under ``root``). Two rows
    that turn out to be one recording (the folder opened from its old and new place) are
    merged: the decisions and marks of both, the analyses of the newest.
    """
    rows = conn.execute(
        "SELECT r.id, r.path, r.reviewed, r.no_bats, r.manual_species_json,"
        " (SELECT MAX(created_at) FROM analyses a WHERE a.recording_id = r.id)"
        " FROM recordings r ORDER BY r.id"
    ).fetchall()
    by_key: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        path = Path(row[1])
        if not path.is_absolute():
            key = row[1]
        else:
            key = path_key(path, root)
            if Path(key).is_absolute():
                key = _moved_key(path, root) or key
        by_key.setdefault(key, []).append(row)
    for key, group in by_key.items():
        # The survivor: the row with the latest analysis, else the oldest row.
        survivor = max(group, key=lambda r: (r[5] or "", -r[0]))
        others = [r for r in group if r is not survivor]
        for other in others:
            conn.execute(
                "UPDATE decisions SET recording_id = ? WHERE recording_id = ?",
                (survivor[0], other[0]),
            )
            conn.execute("DELETE FROM analyses WHERE recording_id = ?", (other[0],))
            conn.execute("DELETE FROM recordings WHERE id = ?", (other[0],))
        if others:
            species = list(
                dict.fromkeys(s for r in group for s in json.loads(r[4] or "[]"))
            )  # every reviewer's manual species list
            conn.execute(
                "UPDATE recordings SET reviewed = ?, no_bats = ?, manual_species_json = ?"
                " WHERE id = ?",
                (int(any(r[2] for r in group)), int(any(r[3] for r in group)),
                 json.dumps(species), survivor[0]),
            )  # fmt: skip
        conn.execute("UPDATE recordings SET path = ? WHERE id = ?", (key, survivor[0]))


def model_set_id(model_set: ModelSet, store: ReviewStore | None = None) -> str:
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


def attach_decisions(
    event_paths: Sequence[Path],
    event_labels: Sequence[str],
    starts: npt.ArrayLike,
    ends: npt.ArrayLike,
    decisions: Iterable[Decision],
) -> npt.NDArray[np.intp]:
    """For each event, the index (into ``decisions``) of the decision attached to it, or -1.

    A decision is attached to the events of the same recording and species whose span overlaps
    the span it was made on by more than a quarter of the shorter of the two — so it survives a
    threshold change that moves, shrinks, splits or merges the event, but does not spill onto
    the neighbouring event (which shares 24 ms of window with it). When several decisions overlap
    one event, the one with the largest overlap wins (ties: the most recent).

    Paths are compared as given: pass resolved paths (the store returns resolved ones), so this
    stays free of file-system calls — the window runs it on every threshold change.
    """
    decision_list = list(decisions)
    starts_a = np.asarray(starts, dtype=np.float64)
    ends_a = np.asarray(ends, dtype=np.float64)
    attached = np.full(len(starts_a), -1, dtype=np.intp)
    by_key: dict[tuple[Path, str], list[int]] = {}
    for k, d in enumerate(decision_list):
        by_key.setdefault((d.path, d.species), []).append(k)
    if not by_key:
        return attached
    event_keys: dict[tuple[Path, str], list[int]] = {}
    for i, key in enumerate(zip(event_paths, event_labels, strict=True)):
        event_keys.setdefault(key, []).append(i)
    for key, rows in event_keys.items():
        candidates = by_key.get(key)
        if not candidates:
            continue
        rows_a = np.array(rows)
        d_start = np.array([decision_list[k].start_s for k in candidates])
        d_end = np.array([decision_list[k].end_s for k in candidates])
        overlap = np.minimum(ends_a[rows_a, None], d_end[None]) - np.maximum(
            starts_a[rows_a, None], d_start[None]
        )  # [events, decisions]
        # Windows two apart overlap by 24 ms, so neighbouring events of one species do too:
        # that is adjacency, not the same event. A real overlap covers a good part of the
        # shorter span (a shrunk or split event keeps at least one whole window of it).
        shorter = np.minimum((ends_a - starts_a)[rows_a, None], (d_end - d_start)[None])
        same_event = overlap > MIN_OVERLAP_FRACTION * shorter
        # Largest overlap first; among equal overlaps the later decision (higher index) wins.
        score = np.where(same_event, overlap, -np.inf)
        best = score.shape[1] - 1 - np.argmax(score[:, ::-1], axis=1)
        has_one = np.isfinite(score[np.arange(len(rows_a)), best])
        attached[rows_a[has_one]] = np.array(candidates)[best[has_one]]
    return attached


class StoreCache:
    """A review store as the analysis cache of one model set (see
    :class:`~bsgbat_gui.core.analysis.AnalysisCache`).

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
