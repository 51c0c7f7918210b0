"""The review store's schema: its tables, its version and the migrations between versions.

The schema has a version (``PRAGMA user_version``) and a list of migrations; a store made by an
older version is upgraded in place, in one transaction, when opened for writing. A file that is
not a review store is never opened as one (:func:`refuse_foreign_file`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bsgbat_gui.core.review.connection import StoreError, transaction
from bsgbat_gui.core.review.locations import path_key

if TYPE_CHECKING:
    import sqlite3

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
    # 3 -> 4: call measurements (core/review/call_cache.py), each with the identity of the file
    # it was measured on and the settings it was measured with.
    """
    CREATE TABLE call_measurements(
        recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
        settings_json TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        content_sha256 TEXT NOT NULL,
        time_expansion REAL NOT NULL,
        fields_json TEXT NOT NULL,
        n_calls INTEGER NOT NULL,
        calls BLOB NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY(recording_id, settings_json)
    );
    """,
)
RELATIVE_KEYS_VERSION = 3
SQLITE_HEADER = b"SQLite format 3\x00"
SCHEMA_VERSION = len(MIGRATIONS)


def refuse_foreign_file(path: Path) -> None:
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
    with transaction(conn):
        for version in range(from_version, to_version):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            if version + 1 == RELATIVE_KEYS_VERSION and root is not None:
                _relative_keys(conn, root)
        conn.execute(f"PRAGMA user_version = {to_version}")


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
