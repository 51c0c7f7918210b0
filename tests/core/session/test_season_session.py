"""The session's survey-wide state kept by array operations: decisions stay attached, species
and review progress stay right, through threshold changes that reuse the unchanged labels'
events."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bsgbat_gui.benchmark.synthetic import long_recording_info, synthetic_analysis
from bsgbat_gui.core.analysis.stacked import block_of
from bsgbat_gui.core.review.decisions import STATUS_CONFIRMED, Decision, attach_decisions
from bsgbat_gui.core.review.store import ReviewStore
from bsgbat_gui.core.session.survey_session import OpenedPaths, SurveySession

if TYPE_CHECKING:
    from pathlib import Path


def test_threshold_steps_keep_every_decision_attached_as_a_fresh_match_would(
    tmp_path: Path,
) -> None:
    paths = [tmp_path / f"r{i}.wav" for i in range(6)]
    for path in paths:  # the store keeps a decision with its file's identity
        path.write_bytes(b"RIFF")
    items = [
        synthetic_analysis(long_recording_info(p, 0.05 + 0.02 * i), seed=i)
        for i, p in enumerate(paths)
    ]
    session = SurveySession()
    session.open(OpenedPaths((tmp_path,), tuple(paths)))
    session.set_store(ReviewStore.open(tmp_path / "bsgbat-review.sqlite"))
    session.add_block(
        block_of(paths, [a.info for a in items], [a.per_model_logits for a in items],
                 items[0].labels, items[0].model_names)
    )  # fmt: skip
    labels = session.labels
    rng = np.random.default_rng(3)
    thresholds = np.full(len(labels), 0.5)
    d = session.refresh_detections(thresholds)
    for e in rng.choice(len(d.events), size=min(25, len(d.events)), replace=False):
        path = d.paths[int(d.recording_index[e])]
        session.replace_decision(
            None,
            Decision(path, labels[int(d.events.label_index[e])], float(d.events.start_s[e]),
                     float(d.events.end_s[e]), STATUS_CONFIRMED, reviewer="t"),
        )  # fmt: skip
    for step in range(20):
        thresholds = thresholds.copy()
        thresholds[int(rng.integers(0, len(labels)))] = float(rng.choice([0.2, 0.4, 0.6, 0.8]))
        d = session.refresh_detections(thresholds)
        expected = attach_decisions(
            [d.paths[i] for i in d.recording_index],
            [labels[i] for i in d.events.label_index],
            d.events.start_s,
            d.events.end_s,
            session.decisions,
        )
        assert np.array_equal(session.attached, expected), step
        for i, path in enumerate(paths):
            row = session.recordings.row_for(path)
            assert row is not None
            mine = d.recording_index == d.index_of(path)
            assert row.events_total == int(mine.sum())
            assert row.events_reviewed == int((expected[mine] >= 0).sum())
            found = sorted({labels[k] for k in d.events.label_index[mine]}, key=labels.index)
            assert row.species == tuple(found), i
    session.close()


def test_a_store_read_holds_probabilities_and_the_shown_recording_reads_its_logits_back(
    tmp_path: Path,
) -> None:
    paths = [tmp_path / f"r{i}.wav" for i in range(5)]
    for path in paths:
        path.write_bytes(b"RIFF")
    items = [
        synthetic_analysis(long_recording_info(p, 0.05 + 0.02 * i), seed=10 + i)
        for i, p in enumerate(paths)
    ]
    store = ReviewStore.open(tmp_path / "bsgbat-review.sqlite")
    for analysis in items:
        store.save_analysis(analysis, "set-1", content_sha256="")
    chunks = list(store.cached_blocks(paths, "set-1", combine="median", first_chunk=2, chunk=2))
    assert [len(b) for b, _ in chunks if b is not None] == [2, 2, 1]
    assert all(not missed for _, missed in chunks)
    kept = store.stored_logits(paths, "set-1")
    assert store.stored_logits(paths, "another set") == {}
    session = SurveySession()
    session.open(OpenedPaths((tmp_path,), tuple(paths)))
    session.set_store(store)
    for block, _ in chunks:
        assert block is not None
        assert block.per_model_logits is None
        assert block.model_set_id == "set-1"
        session.add_block(block)
    session.analyses.set_combine("median")
    for analysis in items:
        path = analysis.info.path
        assert np.array_equal(kept[path], analysis.per_model_logits)
        assert np.array_equal(
            session.analyses.probabilities_of(path), analysis.probabilities("median")
        )
        shown = session.analysis_of(path)  # its logits read from the store
        assert shown is not None
        assert np.array_equal(shown.per_model_logits, analysis.per_model_logits)
    # Every analysis at once (the export, the figures): read 500 per query, the same objects.
    batch = session.all_analyses()
    assert [a.info.path for a in batch] == paths
    for analysis, original in zip(batch, items, strict=True):
        alone = session.analysis_of(original.info.path)
        assert alone is not None
        assert np.array_equal(analysis.per_model_logits, original.per_model_logits)
        assert analysis.windows == alone.windows == original.windows
        assert analysis.info == alone.info
        assert (analysis.labels, analysis.model_names) == (original.labels, original.model_names)
    session.close()
    assert session.analysis_of(paths[0]) is None  # no store: nothing to read them from
