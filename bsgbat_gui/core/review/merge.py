"""Merging review stores analysed separately (the shards of a job array, several laptops) into
one: ``bsgbat-gui merge-stores OUT A B…``.

What is kept, store by store in the order given:

* **recordings**, by their path relative to the survey folder (a path outside it stays
  absolute), re-keyed for the new store's folder; review marks joined (reviewed or "no bats" in
  any store, every store's manual species);
* **analyses**, keyed by recording and model set; of two analyses of one recording by one model
  set, the newer. A recording whose content differs between stores (another SHA-256) keeps the
  identity and analyses of the store with the newer analysis, and says so;
* **decisions**, every one with its reviewer and time; a decision found identical in two stores
  (a store merged twice, a copy) is kept once;
* **call measurements**, keyed by recording and call settings (the newer of two);
* **settings** (thresholds, selection, call settings): the first store's, and a note when
  another store's differ.

Analyses made by different model sets are refused unless asked for (``allow_mixed_models``): a
survey reviewed on two model sets shows each recording by whichever was analysed last. The new
store is built beside ``OUT`` and moved into place when complete, so a failed merge leaves
nothing half-written.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bsgbat_gui.core.files import canonical_path
from bsgbat_gui.core.review.connection import StoreError
from bsgbat_gui.core.review.schema import refuse_foreign_file
from bsgbat_gui.core.review.store import SURVEY_ROOT_META, ReviewStore

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Sequence


class MergeError(Exception):
    """The stores cannot be merged as asked; the message is one line meant for the user."""


@dataclass
class MergeReport:
    """What a merge did: counts in the new store, and notes on conflicts it resolved."""

    stores: int = 0
    recordings: int = 0
    analyses: int = 0
    decisions: int = 0
    duplicate_decisions: int = 0
    call_measurements: int = 0
    model_sets: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


_RECORDING_COLUMNS = (
    "size, mtime_ns, content_sha256, time_expansion, metadata_json, reviewed, no_bats,"
    " manual_species_json"
)
_ANALYSIS_COLUMNS = (
    "model_set_id, time_expansion, labels_json, model_names_json, n_models, n_segments,"
    " n_labels, logits, created_at"
)
_DECISION_COLUMNS = (
    "species, start_s, end_s, status, final_species, note, reviewer, decided_at"
)  # fmt: skip
_CALL_COLUMNS = (
    "settings_json, size, mtime_ns, content_sha256, time_expansion, fields_json, n_calls,"
    " calls, created_at"
)


def _conn(store: ReviewStore) -> sqlite3.Connection:
    return store._conn  # this module is part of the store's package


def model_sets(store: ReviewStore) -> set[str]:
    """The model sets (identities) a store's analyses were made by."""
    rows = _conn(store).execute("SELECT DISTINCT model_set_id FROM analyses").fetchall()
    return {str(row[0]) for row in rows}


def _short(model_set_id: str) -> str:
    return model_set_id[:12] + ("-int8" if model_set_id.endswith("-int8") else "")


def _open_inputs(paths: Sequence[Path]) -> list[ReviewStore]:
    stores: list[ReviewStore] = []
    try:
        for path in paths:
            if not path.is_file():
                raise MergeError(f"{path}: no such review store")
            try:
                stores.append(ReviewStore.open(path, exclusive=False))
            except StoreError as exc:
                raise MergeError(str(exc)) from None
    except BaseException:
        for store in stores:
            store.close()
        raise
    return stores


def _check_model_sets(
    paths: Sequence[Path], stores: Sequence[ReviewStore], allow_mixed: bool
) -> tuple[str, ...]:
    by_set: dict[str, list[str]] = {}
    for path, store in zip(paths, stores, strict=True):
        for set_id in sorted(model_sets(store)):
            by_set.setdefault(set_id, []).append(path.name)
    if len(by_set) > 1 and not allow_mixed:
        which = "; ".join(f"{_short(s)} in {', '.join(names)}" for s, names in by_set.items())
        raise MergeError(
            f"the stores hold analyses by {len(by_set)} different model sets ({which}); "
            "analyse them with one model set, or pass --allow-mixed-models"
        )
    return tuple(by_set)


def _survey_root(stores: Sequence[ReviewStore]) -> Path | None:
    """The survey folder the stores were kept away from, when they all name the same one
    (stores in the user data folder); None: the new store's own folder.
    """
    roots = {store.get_meta(SURVEY_ROOT_META) for store in stores}
    if len(roots) == 1:
        (root,) = roots
        return Path(root) if root else None
    return None


def _latest_analysis(conn: sqlite3.Connection, recording_id: int) -> str:
    row = conn.execute(
        "SELECT MAX(created_at) FROM analyses WHERE recording_id = ?", (recording_id,)
    ).fetchone()
    return str(row[0] or "")


class _Merger:
    """Copies one store after another into the new store's connection (one transaction)."""

    def __init__(self, out: ReviewStore, report: MergeReport) -> None:
        self.out = out
        self.conn = _conn(out)
        self.report = report

    def merge(self, source_path: Path, source: ReviewStore) -> None:
        src = _conn(source)
        ids: dict[int, int] = {}
        for row in src.execute(f"SELECT id, path, {_RECORDING_COLUMNS} FROM recordings"):
            ids[int(row[0])] = self._recording(source_path, src, source, row)
        for rid, out_id in ids.items():
            if out_id < 0:
                continue  # another store's content of this path was newer
            self._analyses(src, rid, out_id)
        for rid, out_id in ids.items():
            self._decisions(src, rid, abs(out_id))
            self._calls(src, rid, abs(out_id))
        self._meta(source_path, source)

    def _recording(
        self, source_path: Path, src: sqlite3.Connection, source: ReviewStore, row: Sequence[Any]
    ) -> int:
        """The new store's id of a recording; negative when its analyses are not to be copied
        (the new store has a newer analysis of other content at that path).
        """
        rid, path_text = int(row[0]), str(row[1])
        values = tuple(row[2:])
        key = self.out.key(source.path_of(path_text))
        existing = self.conn.execute(
            "SELECT id, content_sha256, reviewed, no_bats, manual_species_json"
            " FROM recordings WHERE path = ?",
            (key,),
        ).fetchone()
        if existing is None:
            cursor = self.conn.execute(
                f"INSERT INTO recordings(path, {_RECORDING_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, *values),
            )
            return int(cursor.lastrowid or 0)
        out_id = int(existing[0])
        species = list(
            dict.fromkeys([*json.loads(existing[4] or "[]"), *json.loads(values[7] or "[]")])
        )
        self.conn.execute(
            "UPDATE recordings SET reviewed = ?, no_bats = ?, manual_species_json = ?"
            " WHERE id = ?",
            (int(bool(existing[2]) or bool(values[5])), int(bool(existing[3]) or bool(values[6])),
             json.dumps(species), out_id),
        )  # fmt: skip
        sha, other_sha = values[2], existing[1]
        if not sha or not other_sha or sha == other_sha:
            if not other_sha and sha:
                self.conn.execute(
                    "UPDATE recordings SET size = ?, mtime_ns = ?, content_sha256 = ?,"
                    " time_expansion = ?, metadata_json = ? WHERE id = ?",
                    (*values[:5], out_id),
                )
            return out_id
        # The same path with other content: the store with the newer analysis wins.
        if _latest_analysis(src, rid) > _latest_analysis(self.conn, out_id):
            self.conn.execute("DELETE FROM analyses WHERE recording_id = ?", (out_id,))
            self.conn.execute(
                "UPDATE recordings SET size = ?, mtime_ns = ?, content_sha256 = ?,"
                " time_expansion = ?, metadata_json = ? WHERE id = ?",
                (*values[:5], out_id),
            )
            self.report.notes.append(
                f"{key}: other content in {source_path.name}; its newer analysis kept"
            )
            return out_id
        self.report.notes.append(
            f"{key}: other content in {source_path.name}; the newer analysis of another store kept"
        )
        return -out_id

    def _analyses(self, src: sqlite3.Connection, rid: int, out_id: int) -> None:
        rows = src.execute(
            f"SELECT {_ANALYSIS_COLUMNS} FROM analyses WHERE recording_id = ?", (rid,)
        ).fetchall()
        for row in rows:
            self.conn.execute(
                f"INSERT INTO analyses(recording_id, {_ANALYSIS_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(recording_id, model_set_id) DO UPDATE SET"
                " time_expansion = excluded.time_expansion, labels_json = excluded.labels_json,"
                " model_names_json = excluded.model_names_json, n_models = excluded.n_models,"
                " n_segments = excluded.n_segments, n_labels = excluded.n_labels,"
                " logits = excluded.logits, created_at = excluded.created_at"
                " WHERE excluded.created_at > analyses.created_at",
                (out_id, *row),
            )

    def _decisions(self, src: sqlite3.Connection, rid: int, out_id: int) -> None:
        rows = src.execute(
            f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE recording_id = ? ORDER BY id",
            (rid,),
        ).fetchall()
        for row in rows:
            same = self.conn.execute(
                "SELECT 1 FROM decisions WHERE recording_id = ? AND species = ? AND start_s = ?"
                " AND end_s = ? AND status = ? AND final_species = ? AND note = ?"
                " AND reviewer = ? AND decided_at = ?",
                (out_id, *row),
            ).fetchone()
            if same is not None:
                self.report.duplicate_decisions += 1
                continue
            self.conn.execute(
                f"INSERT INTO decisions(recording_id, {_DECISION_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (out_id, *row),
            )

    def _calls(self, src: sqlite3.Connection, rid: int, out_id: int) -> None:
        rows = src.execute(
            f"SELECT {_CALL_COLUMNS} FROM call_measurements WHERE recording_id = ?", (rid,)
        ).fetchall()
        for row in rows:
            self.conn.execute(
                f"INSERT INTO call_measurements(recording_id, {_CALL_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(recording_id, settings_json) DO UPDATE SET"
                " size = excluded.size, mtime_ns = excluded.mtime_ns,"
                " content_sha256 = excluded.content_sha256,"
                " time_expansion = excluded.time_expansion, fields_json = excluded.fields_json,"
                " n_calls = excluded.n_calls, calls = excluded.calls,"
                " created_at = excluded.created_at"
                " WHERE excluded.created_at > call_measurements.created_at",
                (out_id, *row),
            )

    def _meta(self, source_path: Path, source: ReviewStore) -> None:
        for key, value in _conn(source).execute("SELECT key, value FROM meta ORDER BY key"):
            if key == SURVEY_ROOT_META:
                continue
            kept = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if kept is None:
                self.conn.execute("INSERT INTO meta(key, value) VALUES (?, ?)", (key, value))
            elif kept[0] != value:
                self.report.notes.append(
                    f"setting {key!r} differs in {source_path.name}; the first store's kept"
                )


def _remove_store_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", ".lock"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()


def merge_stores(
    out: Path,
    inputs: Sequence[Path],
    *,
    allow_mixed_models: bool = False,
    overwrite: bool = False,
) -> MergeReport:
    """Merge the review stores ``inputs`` into a new store ``out``.

    Raises
    ------
    MergeError
        When ``out`` exists (without ``overwrite``) or is one of the inputs, an input is not a
        usable store, or the inputs' analyses were made by different model sets (without
        ``allow_mixed_models``).
    """
    if not inputs:
        raise MergeError("no stores to merge")
    out = canonical_path(out)
    input_paths = [canonical_path(p) for p in inputs]
    if out in input_paths:
        raise MergeError(f"{out}: is also one of the stores to merge; write a new store")
    if len(set(input_paths)) != len(input_paths):
        raise MergeError("a store is named twice")
    if out.exists() and not overwrite:
        raise MergeError(f"{out}: exists; pass --overwrite to replace it")
    try:
        refuse_foreign_file(out)  # --overwrite replaces a review store, never another file
    except StoreError as exc:
        raise MergeError(str(exc)) from None
    if not out.parent.is_dir():
        raise MergeError(f"{out.parent}: no such folder")
    stores = _open_inputs(input_paths)
    temporary = out.with_name(f".{out.name}.merging-{os.getpid()}")
    try:
        report = MergeReport(stores=len(stores))
        report.model_sets = _check_model_sets(input_paths, stores, allow_mixed_models)
        _remove_store_files(temporary)
        try:
            merged = ReviewStore.open(temporary, exclusive=True, survey_root=_survey_root(stores))
        except StoreError as exc:
            raise MergeError(str(exc)) from None
        try:
            merger = _Merger(merged, report)
            with merged._transaction():  # all or nothing
                for path, store in zip(input_paths, stores, strict=True):
                    merger.merge(path, store)
            conn = _conn(merged)
            for table in ("recordings", "analyses", "decisions", "call_measurements"):
                count = int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                setattr(report, table, count)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            merged.close()
        if overwrite:
            _remove_store_files(out)
        temporary.replace(out)
        _remove_store_files(temporary)
    except BaseException:
        _remove_store_files(temporary)
        raise
    finally:
        for store in stores:
            store.close()
    return report
