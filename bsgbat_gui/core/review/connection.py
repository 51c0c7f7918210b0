"""The connection every part of a review store shares: the SQLite connection, read-only
mode, the survey folder that recording paths are kept relative to, recording ids and settings.

:class:`StoreConnection` is the base of :class:`~bsgbat_gui.core.review.store.ReviewStore`; the
decisions (:mod:`~bsgbat_gui.core.review.decisions`) and the analysis cache
(:mod:`~bsgbat_gui.core.review.analysis_cache`) are its tables, each in its own module.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from bsgbat_gui.core.files import canonical_path, canonical_paths
from bsgbat_gui.core.review.locations import key_of_canonical, key_path, path_key

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator, Sequence
    from pathlib import Path


class StoreError(Exception):
    """The store cannot be used (not a database, made by a newer version, unwritable…)."""


class StoreReadOnly(StoreError):
    """A write to a store opened read-only."""


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One ``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on any exception, which propagates):
    what happens inside is in the store entirely or not at all.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class StoreConnection:
    """An open review store's connection and the helpers its tables share."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, read_only: bool, root: Path | None = None
    ) -> None:
        self.path = path
        self._conn = conn
        self.read_only = read_only
        self.root = root or path.parent  # the survey folder that paths are kept relative to
        self._recording_ids: dict[Path, int] = {}

    def key(self, path: Path) -> str:
        """How this store keeps ``path`` (relative to :attr:`root` when inside it)."""
        return path_key(path, self.root)

    def keys(self, paths: Sequence[Path]) -> list[str]:
        """:meth:`key` of many paths, each folder resolved once."""
        return [key_of_canonical(p, self.root) for p in canonical_paths(paths)]

    def path_of(self, key: str) -> Path:
        """The absolute path of a stored key."""
        return key_path(key, self.root)

    def _write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        if self.read_only:
            raise StoreReadOnly(f"{self.path} is open read-only")
        return self._conn.execute(sql, params)

    def _transaction(self) -> contextlib.AbstractContextManager[None]:
        """A write transaction (see :func:`transaction`); refused on a read-only store."""
        if self.read_only:
            raise StoreReadOnly(f"{self.path} is open read-only")
        return transaction(self._conn)

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
