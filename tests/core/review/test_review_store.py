"""The review store: durable decisions (SIGKILL), the analysis cache (hits and invalidation),
migrations, one writer at a time, and decisions that follow their events."""

from __future__ import annotations

import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import pytest
from audio_factory import chirp_train, write_wav
from model_factory import band_energy_model, write_model_set

from bsgbat_gui.__main__ import _subcommand_parser
from bsgbat_gui.core.review.connection import StoreError, StoreReadOnly
from bsgbat_gui.core.review.decisions import (
    STATUS_CONFIRMED,
    STATUS_REJECTED,
    STATUS_RELABELLED,
    Decision,
    RecordingReview,
    attach_decisions,
)
from bsgbat_gui.core.review.schema import SCHEMA_VERSION, migrate
from bsgbat_gui.core.review.store import ReviewStore


def run_cli(argv: list[str]) -> tuple[int, str]:
    args = _subcommand_parser().parse_args(argv)
    stderr = io.StringIO()
    rc = args.run(args, stdout=io.StringIO(), stderr=stderr)
    return rc, stderr.getvalue()


@pytest.fixture
def night(tmp_path: Path) -> Path:
    folder = tmp_path / "night"
    folder.mkdir()
    for i in range(3):
        write_wav(folder / f"r{i}.wav", chirp_train(384_000, 2.5, seed=20 + i), 384_000)
    return folder


def analyse(folder: Path, models: Path, store: Path, segments: Path) -> str:
    rc, stderr = run_cli(
        ["analyze", str(folder), "--models", str(models), "--project", str(store),
         "--segments", str(segments)]
    )  # fmt: skip
    assert rc == 0, stderr
    return stderr.strip().splitlines()[-1]


def test_reopening_an_analysed_folder_runs_no_model(
    night: Path, model_set_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = night / "bsgbat-review.sqlite"
    first = analyse(night, model_set_dir, store, tmp_path / "s1.csv")
    assert first == f"3 analysed (0 from {store}), 0 failed"

    from bsgbat_gui.core.models import ensemble

    def no_inference(self, batch):  # the second run must not reach the models
        raise AssertionError("a model was run")

    monkeypatch.setattr(ensemble.Ensemble, "run", no_inference)
    second = analyse(night, model_set_dir, store, tmp_path / "s2.csv")
    assert second == f"3 analysed (3 from {store}), 0 failed"
    assert (tmp_path / "s1.csv").read_text() == (tmp_path / "s2.csv").read_text()


def test_a_changed_file_or_model_set_is_analysed_again(
    night: Path, model_set_dir: Path, tmp_path: Path
) -> None:
    store = tmp_path / "survey.sqlite"
    analyse(night, model_set_dir, store, tmp_path / "s.csv")
    # Touched (new mtime) but the same content: still cached, after a hash check.
    os.utime(night / "r0.wav", ns=(1, 1))
    # New content, same size.
    write_wav(night / "r1.wav", chirp_train(384_000, 2.5, seed=99), 384_000)
    assert analyse(night, model_set_dir, store, tmp_path / "s.csv") == (
        f"3 analysed (2 from {store}), 0 failed"
    )
    # Another model set (one model's weights differ): everything again.
    other = write_model_set(tmp_path / "other-models", with_checksums=False)
    onnx.save(band_energy_model(gain=12.0), str(other / "bsgbat_v0.21_r2.onnx"))
    assert analyse(night, other, store, tmp_path / "s.csv") == (
        f"3 analysed (0 from {store}), 0 failed"
    )
    assert analyse(night, model_set_dir, store, tmp_path / "s.csv") == (
        f"3 analysed (3 from {store}), 0 failed"
    )


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bsgbat_gui.core.review.decisions import Decision
    from bsgbat_gui.core.review.store import ReviewStore
    store = ReviewStore.open(Path(sys.argv[1]))
    recording = Path(sys.argv[2])
    for i in range(100000):
        d = store.put_decision(Decision(recording, "Myotis daubentonii", i, i + 1.0,
                                        "confirmed", "Myotis daubentonii", note=f"n{i}"))
        print(d.id, flush=True)
    """
)


def test_a_killed_writer_loses_no_committed_decision(tmp_path: Path) -> None:
    recording = write_wav(tmp_path / "a.wav", chirp_train(384_000, 1.0), 384_000)
    store_path = tmp_path / "store.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store_path), str(recording)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    committed = [int(proc.stdout.readline()) for _ in range(300)]
    proc.send_signal(signal.SIGKILL)  # mid-stream: it keeps writing until killed
    proc.wait(timeout=30)
    committed += [int(line) for line in proc.stdout.read().split()]
    proc.stdout.close()
    with ReviewStore.open(store_path) as store:
        stored = {d.id: d for d in store.decisions()}
    assert set(committed) <= set(stored)
    assert stored[committed[-1]].note == f"n{len(committed) - 1}"


def test_decisions_round_trip_and_a_second_window_opens_read_only(tmp_path: Path) -> None:
    recording = write_wav(tmp_path / "a.wav", chirp_train(384_000, 1.0), 384_000)
    path = tmp_path / "s.sqlite"
    first = ReviewStore.open(path)
    d = first.put_decision(
        Decision(recording, "Pipistrellus pipistrellus", 1.0, 2.5, STATUS_RELABELLED,
                 "Pipistrellus pygmaeus", note="QCF at 55 kHz", reviewer="AB")
    )  # fmt: skip
    assert d.id is not None
    assert d.decided_at[-6] in "+-"
    first.set_recording_review(recording, RecordingReview(True, False, ("Myotis daubentonii",)))
    second = ReviewStore.open(path)
    assert second.read_only
    assert not first.read_only
    assert second.decisions() == [d]
    assert second.recording_review(recording).manual_species == ("Myotis daubentonii",)
    with pytest.raises(StoreReadOnly):
        second.put_decision(d)
    second.close()
    first.delete_decision(d.id)
    assert first.decisions() == []
    first.close()
    third = ReviewStore.open(path)  # the lock went with the first window
    assert not third.read_only
    third.close()


def test_an_older_store_is_migrated_with_its_decisions(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, 0, 1)  # the schema version 1 wrote
    conn.execute("INSERT INTO recordings(path, size, mtime_ns) VALUES ('/x/a.wav', 10, 1)")
    conn.execute(
        "INSERT INTO decisions(recording_id, species, start_s, end_s, status, decided_at)"
        " VALUES (1, 'Nyctalus noctula', 0.0, 1.0, 'rejected', '2026-06-01T22:00:00+02:00')"
    )
    conn.close()
    with ReviewStore.open(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == 4
        [decision] = store.decisions()
        assert decision.status == STATUS_REJECTED
        assert decision.species == "Nyctalus noctula"
        assert store.recording_review(Path("/x/a.wav")) == RecordingReview()


def test_unusable_stores_are_one_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE photos(id INTEGER PRIMARY KEY)")
    damaged = tmp_path / "damaged.sqlite"
    with ReviewStore.open(damaged):
        pass
    damaged.write_bytes(damaged.read_bytes()[:100] + b"\xff" * 4000)
    for path, reason in (
        (junk, "not a review store \\(not an SQLite database\\)"),
        (empty, "an empty file \\(0 bytes\\)"),
        (other, "another program"),
        (damaged, "not a usable review store"),
    ):
        before = path.read_bytes()
        for exclusive in (True, False):
            with pytest.raises(StoreError, match=reason):
                ReviewStore.open(path, exclusive=exclusive)
        assert path.read_bytes() == before, path.name  # never turned into a new store
    newer = tmp_path / "newer.sqlite"
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer bsgbat-gui"):
        ReviewStore.open(newer)


def test_decisions_stay_attached_when_events_change() -> None:
    a, b = Path("/s/a.wav"), Path("/s/b.wav")
    decisions = [
        Decision(a, "Myotis daubentonii", 1.0, 3.0, STATUS_CONFIRMED),
        Decision(a, "Pipistrellus pipistrellus", 1.0, 3.0, STATUS_REJECTED),
        Decision(b, "Myotis daubentonii", 10.0, 11.0, STATUS_CONFIRMED),
        Decision(a, "Myotis daubentonii", 2.8, 6.0, STATUS_REJECTED),  # a later, wider one
    ]
    events = [
        (a, "Myotis daubentonii", 1.5, 2.5),  # shrunk: the first decision
        (a, "Myotis daubentonii", 4.0, 5.0),  # split off: overlaps only the later decision
        (a, "Myotis daubentonii", 0.0, 7.0),  # merged: the largest overlap (the later one)
        (a, "Nyctalus noctula", 1.0, 3.0),  # another species: none
        (b, "Myotis daubentonii", 10.5, 12.0),  # the other recording's
        (b, "Myotis daubentonii", 11.0, 12.0),  # touching is not overlapping
        (b, "Myotis daubentonii", 10.976, 12.0),  # the next event: shares 24 ms of window
    ]
    paths, labels, starts, ends = zip(*events, strict=True)
    attached = attach_decisions(paths, labels, starts, ends, decisions)
    assert attached.tolist() == [0, 3, 3, -1, 2, -1, -1]
    assert np.all(attach_decisions(paths, labels, starts, ends, []) == -1)


def test_a_survey_folder_moved_or_copied_keeps_its_review_and_cache(
    night: Path, model_set_dir: Path, tmp_path: Path
) -> None:
    """Paths are kept relative to the survey folder: a folder moved to another disk, or copied
    (with new file times), keeps its decisions, marks and cached analyses, each listed once."""
    store_path = night / "bsgbat-review.sqlite"
    assert "0 from" in analyse(night, model_set_dir, store_path, tmp_path / "s1.csv")
    with ReviewStore.open(store_path) as store:
        store.put_decision(Decision(night / "r1.wav", "Myotis daubentonii", 0.0, 1.024,
                                    STATUS_CONFIRMED, "Myotis daubentonii"))  # fmt: skip
        store.set_recording_review(night / "r2.wav", RecordingReview(reviewed=True))
        keys = {r[0] for r in store._conn.execute("SELECT path FROM recordings")}
    assert keys == {"r0.wav", "r1.wav", "r2.wav"}
    moved = tmp_path / "other-disk" / "survey-2026"
    moved.parent.mkdir()
    night.rename(moved)
    copy = tmp_path / "copy"
    shutil.copytree(moved, copy, copy_function=shutil.copyfile)  # new modification times
    for folder in (moved, copy):
        line = analyse(folder, model_set_dir, folder / "bsgbat-review.sqlite",
                       tmp_path / f"{folder.name}.csv")  # fmt: skip
        assert line.startswith("3 analysed (3 from"), line  # served from the cache
        with ReviewStore.open(folder / "bsgbat-review.sqlite") as store:
            [decision] = store.decisions()
            assert decision.path == folder / "r1.wav"
            assert store.recording_reviews()[folder / "r2.wav"].reviewed
            assert sorted(store.analysis_model_sets()) == [folder / f"r{i}.wav" for i in range(3)]
            every = store.analysis_model_sets()
            some = [folder / "r2.wav", folder / "r0.wav", folder / "missing.wav"]
            assert store.analysis_model_sets(some) == {p: every[p] for p in some[:2]}


def test_an_absolute_path_store_is_migrated_to_relative_paths(tmp_path: Path) -> None:
    """A version-2 store kept absolute paths; one whose folder was since moved, and then opened
    from its new place (old and new paths both in it), becomes one row per recording with every
    decision and mark."""
    folder = tmp_path / "new-place"
    folder.mkdir()
    for name in ("a.wav", "b.wav"):
        write_wav(folder / name, chirp_train(384_000, 0.3), 384_000)
    path = folder / "bsgbat-review.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, 0, 2)
    rows = [
        (1, "/old-place/a.wav", 1, "[]"),  # reviewed at the old place
        (2, "/old-place/b.wav", 0, '["Myotis myotis"]'),
        (3, str(folder / "a.wav"), 0, '["Pipistrellus pipistrellus"]'),  # opened again here
        (4, "/elsewhere/c.wav", 0, "[]"),  # no longer anywhere: kept as it was
    ]
    for rid, p, reviewed, species in rows:
        conn.execute(
            "INSERT INTO recordings(id, path, size, mtime_ns, reviewed, manual_species_json)"
            " VALUES (?, ?, 1, 1, ?, ?)",
            (rid, p, reviewed, species),
        )
    for rid in (1, 2, 3):
        conn.execute(
            "INSERT INTO decisions(recording_id, species, start_s, end_s, status, decided_at)"
            " VALUES (?, 'Nyctalus noctula', 0.0, 1.0, 'rejected', '2026-06-01T22:00:00+02:00')",
            (rid,),
        )
    conn.close()
    with ReviewStore.open(path) as store:
        keys = sorted(r[0] for r in store._conn.execute("SELECT path FROM recordings"))
        assert keys == ["/elsewhere/c.wav", "a.wav", "b.wav"]
        reviews = store.recording_reviews()
        assert reviews[folder / "a.wav"] == RecordingReview(
            reviewed=True, manual_species=("Pipistrellus pipistrellus",)
        )
        assert reviews[folder / "b.wav"].manual_species == ("Myotis myotis",)
        paths = sorted(d.path for d in store.decisions())
        assert paths == [folder / "a.wav", folder / "a.wav", folder / "b.wav"]


def test_a_store_beside_no_folder_keeps_paths_relative_to_its_survey(tmp_path: Path) -> None:
    """The store of a read-only survey lives in the user data folder: its paths are relative to
    the survey folder, which the store remembers for whoever opens it next (the command)."""
    survey = tmp_path / "card"
    survey.mkdir()
    recording = write_wav(survey / "a.wav", chirp_train(384_000, 0.3), 384_000)
    away = tmp_path / "data" / "card-1234.sqlite"
    with ReviewStore.open(away, survey_root=survey) as store:
        store.set_recording_review(recording, RecordingReview(no_bats=True))
        assert [r[0] for r in store._conn.execute("SELECT path FROM recordings")] == ["a.wav"]
    with ReviewStore.open(away, exclusive=False) as store:
        assert store.root == survey
        assert store.recording_reviews() == {recording: RecordingReview(no_bats=True)}
