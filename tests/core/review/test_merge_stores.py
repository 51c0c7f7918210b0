"""`bsgbat-gui merge-stores`: stores analysed separately (job-array shards, several laptops)
joined into one, decisions kept with their reviewer and time."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import numpy as np
import pytest
from audio_factory import chirp_train, write_wav
from cli_runner import run_cli
from model_factory import write_model_set

from bsgbat_gui.core.calls.parameters import CALL_FIELDS, CallTable
from bsgbat_gui.core.calls.settings import CallSettings
from bsgbat_gui.core.files import sha256_file
from bsgbat_gui.core.review.decisions import Decision, RecordingReview
from bsgbat_gui.core.review.store import ReviewStore

if TYPE_CHECKING:
    from pathlib import Path

RATE = 384_000


@pytest.fixture
def night(tmp_path: Path) -> Path:
    folder = tmp_path / "night"
    (folder / "sub").mkdir(parents=True)
    for i, name in enumerate(("a.wav", "b.wav", "sub/c.wav", "d.wav", "e.wav")):
        write_wav(folder / name, chirp_train(RATE, 1.0 + 0.6 * i, seed=i), RATE)
    return folder


def analyze(folder: Path, models: Path, store: Path, *extra: str) -> None:
    rc, _, stderr = run_cli(
        ["analyze", str(folder), "--models", str(models), "--project", str(store), *extra]
    )
    assert rc == 0, stderr


def rows(store: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


ANALYSES = (
    "SELECT r.path, r.size, r.mtime_ns, r.content_sha256, r.metadata_json, a.model_set_id,"
    " a.n_models, a.n_segments, a.n_labels, a.logits FROM analyses a"
    " JOIN recordings r ON r.id = a.recording_id ORDER BY r.path, a.model_set_id"
)


def test_the_shards_of_a_job_array_merge_into_the_whole_surveys_store(
    night: Path, model_set_dir: Path
) -> None:
    whole = night / "whole.sqlite"
    analyze(night, model_set_dir, whole)
    shards = [night / f"shard{i}.sqlite" for i in (1, 2, 3)]
    for i, store in enumerate(shards, start=1):
        analyze(night, model_set_dir, store, "--shard", f"{i}/3")
    per_shard = [len(rows(s, "SELECT 1 FROM analyses")) for s in shards]
    assert sum(per_shard) == 5
    merged = night / "bsgbat-review.sqlite"
    rc, _, stderr = run_cli(["merge-stores", str(merged), *map(str, shards)])
    assert rc == 0, stderr
    assert stderr.splitlines()[-1] == (
        f"merged 3 stores into {merged}: 5 recordings, 5 analyses, 0 decisions, 0 call measurements"
    )
    assert rows(merged, ANALYSES) == rows(whole, ANALYSES)
    # Kept relative to the survey folder: the merged store still works once the folder moves.
    assert sorted(r[0] for r in rows(merged, "SELECT path FROM recordings")) == [
        "a.wav", "b.wav", "d.wav", "e.wav", "sub/c.wav"
    ]  # fmt: skip
    moved = night.rename(night.with_name("moved"))
    with ReviewStore.open(moved / "bsgbat-review.sqlite", exclusive=False) as store:
        analyses = list(store.stored_analyses())
    assert len(analyses) == 5
    assert all(path.parent in (moved, moved / "sub") for path, _, _ in analyses)


def test_every_decision_is_kept_with_its_reviewer_and_time_once(
    night: Path, model_set_dir: Path
) -> None:
    a_store, b_store = night / "anna.sqlite", night / "ben.sqlite"
    analyze(night, model_set_dir, a_store)
    analyze(night, model_set_dir, b_store)
    pip = "Pipistrellus pipistrellus"
    shared = Decision(night / "a.wav", pip, 0.0, 1.0, "confirmed",
                      pip, "", "anna", "2026-05-01T22:10:00+02:00")  # fmt: skip
    with ReviewStore.open(a_store) as store:
        store.put_decision(shared)
        store.put_decision(
            Decision(night / "b.wav", "Myotis daubentonii", 0.5, 1.5, "rejected",
                     note="noise", reviewer="anna", decided_at="2026-05-01T22:11:00+02:00")
        )  # fmt: skip
        store.set_recording_review(night / "a.wav", RecordingReview(reviewed=True))
        store.set_recording_review(
            night / "d.wav", RecordingReview(manual_species=("Nyctalus noctula",))
        )
        store.set_meta("thresholds", '{"anna": 1}')
    with ReviewStore.open(b_store) as store:
        store.put_decision(shared)  # the same decision, copied with the store
        store.put_decision(
            Decision(night / "sub" / "c.wav", "Eptesicus serotinus", 0.0, 0.5, "relabelled",
                     "Nyctalus noctula", "", "ben", "2026-05-02T01:00:00+02:00")
        )  # fmt: skip
        store.set_recording_review(
            night / "d.wav", RecordingReview(no_bats=True, manual_species=("Plecotus auritus",))
        )
        store.set_meta("thresholds", '{"ben": 1}')
        info_c = next(a for p, _, a in store.stored_analyses() if p.name == "c.wav").info
        calls = CallTable(**{name: np.array([0.1, 0.2]) for name in CALL_FIELDS})
        store.save_calls(info_c, CallSettings(), calls, sha256_file(night / "sub" / "c.wav"))
    merged = night / "merged.sqlite"
    rc, _, stderr = run_cli(["merge-stores", str(merged), str(a_store), str(b_store)])
    assert rc == 0, stderr
    assert "3 decisions (1 found twice, kept once)" in stderr
    assert "1 call measurements" in stderr
    assert "note: setting 'thresholds' differs in ben.sqlite; the first store's kept" in stderr
    with ReviewStore.open(merged) as store:
        decisions = {(d.path.name, d.status, d.reviewer, d.decided_at, d.note, d.final_species)
                     for d in store.decisions()}  # fmt: skip
        reviews = store.recording_reviews()
        stored_calls = store.stored_calls(CallSettings())
        thresholds = store.get_meta("thresholds")
    assert decisions == {
        ("a.wav", "confirmed", "anna", "2026-05-01T22:10:00+02:00", "", pip),
        ("b.wav", "rejected", "anna", "2026-05-01T22:11:00+02:00", "noise", ""),
        ("c.wav", "relabelled", "ben", "2026-05-02T01:00:00+02:00", "", "Nyctalus noctula"),
    }  # fmt: skip
    assert reviews[night / "a.wav"].reviewed
    assert reviews[night / "d.wav"] == RecordingReview(
        reviewed=False, no_bats=True, manual_species=("Nyctalus noctula", "Plecotus auritus")
    )
    assert np.array_equal(stored_calls[night / "sub" / "c.wav"].start_s, [0.1, 0.2])
    assert thresholds == '{"anna": 1}'
    # Merging the merged store with one of its parts again adds nothing.
    again = night / "again.sqlite"
    rc, _, stderr = run_cli(["merge-stores", str(again), str(merged), str(a_store)])
    assert rc == 0, stderr
    assert "3 decisions (2 found twice, kept once)" in stderr


def test_stores_of_different_model_sets_are_refused_unless_asked(
    night: Path, model_set_dir: Path, tmp_path: Path
) -> None:
    other_models = write_model_set(tmp_path / "five-models", n_models=5)
    a_store, b_store = night / "a.sqlite", night / "b.sqlite"
    analyze(night, model_set_dir, a_store)
    analyze(night, other_models, b_store)
    merged = night / "merged.sqlite"
    rc, _, stderr = run_cli(["merge-stores", str(merged), str(a_store), str(b_store)])
    assert rc == 2
    assert stderr.startswith("error: the stores hold analyses by 2 different model sets (")
    assert "--allow-mixed-models" in stderr
    assert not merged.exists()
    rc, _, stderr = run_cli(
        ["merge-stores", str(merged), str(a_store), str(b_store), "--allow-mixed-models"]
    )
    assert rc == 0, stderr
    assert len(rows(merged, "SELECT 1 FROM analyses")) == 10  # each recording by each set


def test_an_existing_store_is_not_overwritten_unless_asked(
    night: Path, model_set_dir: Path
) -> None:
    a_store = night / "a.sqlite"
    analyze(night, model_set_dir, a_store)
    merged = night / "merged.sqlite"
    merged.write_bytes(b"precious")
    rc, _, stderr = run_cli(["merge-stores", str(merged), str(a_store)])
    assert (rc, stderr) == (2, f"error: {merged}: exists; pass --overwrite to replace it\n")
    assert merged.read_bytes() == b"precious"
    rc, _, stderr = run_cli(["merge-stores", str(a_store), str(a_store)])
    assert rc == 2
    assert "is also one of the stores to merge" in stderr
    new = night / "new.sqlite"
    rc, _, stderr = run_cli(["merge-stores", str(new), str(night / "absent.sqlite")])
    assert (rc, stderr) == (2, f"error: {night / 'absent.sqlite'}: no such review store\n")
    rc, _, stderr = run_cli(["merge-stores", str(merged), str(a_store), "--overwrite"])
    assert rc == 2
    assert "not a review store" in stderr  # --overwrite replaces stores only
    assert merged.read_bytes() == b"precious"
    for _ in range(2):  # a new store, then replaced
        rc, _, stderr = run_cli(["merge-stores", str(new), str(a_store), "--overwrite"])
        assert rc == 0, stderr
        assert len(rows(new, "SELECT 1 FROM analyses")) == 5
    leftovers = [p.name for p in night.iterdir() if "merging" in p.name]
    assert leftovers == []
