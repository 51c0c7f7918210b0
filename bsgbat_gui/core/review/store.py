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

The parts, one module each: :mod:`~bsgbat_gui.core.review.locations` (where a store lives, how
it names recordings), :mod:`~bsgbat_gui.core.review.schema` (tables, versions, migrations),
:mod:`~bsgbat_gui.core.review.connection` (what the parts share),
:mod:`~bsgbat_gui.core.review.decisions` and :mod:`~bsgbat_gui.core.review.analysis_cache`
(the tables); this module opens, locks and closes a store.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from pathlib import Path
from typing import IO

from bsgbat_gui.core.files import canonical_path
from bsgbat_gui.core.review.analysis_cache import AnalysisRecords
from bsgbat_gui.core.review.call_cache import CallRecords
from bsgbat_gui.core.review.connection import StoreError
from bsgbat_gui.core.review.decisions import DecisionRecords
from bsgbat_gui.core.review.schema import SCHEMA_VERSION, migrate, refuse_foreign_file

BUSY_TIMEOUT_S = 10.0
SURVEY_ROOT_META = "survey_root"  # for a store kept away from its survey folder


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


class ReviewStore(DecisionRecords, AnalysisRecords, CallRecords):
    """A survey's review store. Open with :meth:`open`; every write is committed at once."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, read_only: bool, lock: _InstanceLock | None,
        root: Path | None = None,
    ) -> None:  # fmt: skip
        super().__init__(path, conn, read_only, root)
        self._lock = lock

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
        refuse_foreign_file(path)
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
