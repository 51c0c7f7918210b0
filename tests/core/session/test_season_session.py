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
