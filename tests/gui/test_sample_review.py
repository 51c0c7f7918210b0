"""Review → Review a sample…: a stratified sample drawn from the window's detections, kept in
the review store, shown by the detections table's "In the sample" filter, reviewed from the
keyboard, found again on reopening and used by the survey report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from audio_factory import chirp_train, write_wav
from PySide6.QtCore import Qt
from test_review_in_the_window import open_analysed, press

from bsgbat_gui.core.evaluation.sampling import (
    DEFAULT_SAMPLE_EDGES,
    draw_sample,
    load_sample,
    stratum_of,
)
from bsgbat_gui.core.review.decisions import STATUS_CONFIRMED
from bsgbat_gui.core.review.store import ReviewStore
from bsgbat_gui.core.review.survey import recording_rows

if TYPE_CHECKING:
    from pathlib import Path


def test_a_sample_is_drawn_reviewed_from_the_keyboard_kept_and_reported(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    folder = tmp_path / "night"
    folder.mkdir()
    for i in range(3):
        write_wav(folder / f"rec{i}.wav", chirp_train(384_000, 8.0, seed=30 + i), 384_000)
    window = open_analysed(qtbot, make_window, folder, model_set_dir)
    session, panel = window.session, window.detections_panel
    window.thresholds.set_all(0.2)  # many events per species, so strata are larger than 2
    window.refresh_detections()  # not waiting for a refresh still paced behind the results
    detections = session.detections
    assert detections is not None
    assert len(detections.events) > 20
    assert not panel.sample_box.isVisible()

    window.sample_reviewer.open()
    dialog = window.sample_reviewer.dialog
    assert dialog is not None
    dialog.per_stratum.setValue(2)
    dialog.seed.setValue(7)
    # Expected from the events alone: min(2, N_h) per species and probability bin.
    ev = detections.events
    edges = DEFAULT_SAMPLE_EDGES
    strata: dict[tuple[str, int], int] = {}
    for k, p in zip(ev.label_index.tolist(), ev.max_prob.tolist(), strict=True):
        key = (session.labels[k], stratum_of(p, edges))
        strata[key] = strata.get(key, 0) + 1
    expected_size = sum(min(2, n) for n in strata.values())
    assert f"hold {expected_size:,} of {len(ev):,} detections" in dialog.summary.text()
    dialog.draw_button.click()

    sample = session.sample
    assert sample is not None
    # The sample the command draws from the survey's rows with the same settings.
    survey = window.survey_for_export()
    rows = [row for rec in recording_rows(survey) for row in rec.rows]
    assert draw_sample(rows, per_stratum=2, seed=7).keys == sample.keys
    assert sample.seed == 7
    assert len(sample.keys) == expected_size
    drawn: dict[tuple[str, int], int] = {}
    for key in sample.keys:
        (e,) = [
            i for i in range(len(ev))
            if detections.paths[detections.recording_index[i]] == key.path
            and session.labels[ev.label_index[i]] == key.species
            and abs(ev.start_s[i] - key.start_s) < 1e-6
        ]  # fmt: skip
        stratum = (key.species, stratum_of(float(ev.max_prob[e]), edges))
        drawn[stratum] = drawn.get(stratum, 0) + 1
    assert drawn == {s: min(2, n) for s, n in strata.items()}
    # The table shows the sample's unreviewed detections, the first one selected.
    model = panel.model
    assert panel.sample_box.isChecked()
    assert panel.unreviewed_box.isChecked()
    assert model.rowCount() == expected_size
    rows = [model.event_at(r) for r in range(model.rowCount())]
    shown = {(e.path, e.label, round(e.start_s, 6)) for e in rows}
    assert shown == {(k.path, k.species, round(k.start_s, 6)) for k in sample.keys}
    assert panel.current_row() == 0

    # Reviewed from the keyboard: the shown recording's sampled detection confirmed with A.
    window.activateWindow()  # back from the dialogs: the keys go to the window again
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.waitUntil(lambda: window.review_actions.target() is not None)
    target = window.review_actions.target()
    press(qtbot, window, Qt.Key.Key_A)  # as a reviewer types, focus where the app puts it
    confirmed = [d for d in session.decisions if d.status == STATUS_CONFIRMED]
    assert [(d.path, d.species, d.start_s) for d in confirmed] == [
        (target.path, target.label, target.start_s)
    ]
    assert model.rowCount() == expected_size - 1  # the decided one left the unreviewed view
    store_path = session.store.path
    window.close()

    # Kept in the store: read by the store's own reader and found again by a new window.
    with ReviewStore.open(store_path, exclusive=False) as store:
        kept = load_sample(store)
    assert kept is not None
    assert kept.keys == sample.keys
    again = open_analysed(qtbot, make_window, folder, model_set_dir)
    again.thresholds.set_all(0.2)
    assert again.session.sample is not None
    assert again.detections_panel.sample_box.isVisibleTo(again)

    def sample_events_shown() -> int:  # once every stored analysis is in
        mask = again.session.sample_mask()
        return -1 if mask is None else int(mask.sum())

    qtbot.waitUntil(lambda: sample_events_shown() == expected_size)
    # The survey report weighs the sample back: its section names the sample drawn.
    out = tmp_path / "report.html"
    again.report_exporter.write(out, survey_title="t")
    qtbot.waitUntil(lambda: not again.report_exporter.writer.is_running and out.exists(),
                    timeout=60_000)  # fmt: skip
    html = out.read_text(encoding="utf-8")
    assert f"{expected_size} detections sampled (2 per species × probability bin, seed 7" in html
    assert "1 decided so far" in html
