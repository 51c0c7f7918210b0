"""View → Survey figures…: the report's figures drawn with pyqtgraph for a survey of two sites
and two nights — passes placed after sunset and before sunrise, the species × night cells, the
sites at their GUANO positions, emergence per species."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from astral import LocationInfo
from astral.sun import sun
from audio_factory import chirp_train, guano_chunk, write_wav
from test_review_in_the_window import open_analysed

from bsgbat_gui.core.review.survey import recording_rows

if TYPE_CHECKING:
    from pathlib import Path

SITES = {"north": (52.10, 4.30), "south": (51.20, 5.10)}
CEST = dt.timezone(dt.timedelta(hours=2))


def make_survey(folder: Path) -> None:
    """Two sites, two nights, recordings an hour after sunset (the library's) and at 3 am."""
    for s, (site, (lat, lon)) in enumerate(SITES.items()):
        (folder / site).mkdir(parents=True)
        for n, day in enumerate((dt.date(2024, 6, 10), dt.date(2024, 6, 11))):
            where = LocationInfo(site, "", "Europe/Amsterdam", lat, lon).observer
            sunset = sun(where, date=day, tzinfo=CEST)["sunset"]
            times = (sunset + dt.timedelta(hours=1), dt.datetime.combine(
                day + dt.timedelta(days=1), dt.time(3, 0), tzinfo=CEST))  # fmt: skip
            for k, when in enumerate(times):
                chunk = guano_chunk({"Timestamp": when.isoformat(), "Loc Position": f"{lat} {lon}"})
                samples = chirp_train(384_000, 4.0, seed=100 * s + 10 * n + k)
                write_wav(folder / site / f"{day:%Y%m%d}_{k}.wav", samples, 384_000,
                          extra_chunks=chunk)  # fmt: skip


def test_the_survey_figures_show_the_report_numbers_of_the_open_survey(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    folder = tmp_path / "survey"
    make_survey(folder)
    window = open_analysed(qtbot, make_window, folder, model_set_dir)
    assert len(window.recordings.rows) == 8
    window.thresholds.set_all(0.2)
    window.refresh_detections()
    survey = window.survey_for_export()
    assert survey is not None
    passes = sum(
        1 for rec in recording_rows(survey) for row in rec.rows if row.is_event
    )  # nobody rejected anything: every event is a detected pass
    assert passes > 0
    window.action_table.figures_action.trigger()
    dialog = window.survey_figures.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: not dialog.is_computing)
    assert dialog.isVisible()
    activity = dialog.activity
    assert activity is not None
    assert (activity.placed_passes, activity.unplaced_passes) == (passes, 0)

    # Activity: all species together, every placed pass in a bar, after sunset and before sunrise.
    for reference, plot in dialog.activity_plots.items():
        bars = [i for i in plot.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
        detected = bars[0].opts["height"]
        assert float(np.sum(detected)) == passes, reference
        assert float(np.sum(bars[1].opts["height"])) == 0.0  # nothing verified yet
    # The sunset recordings sit in the bin an hour after sunset.
    after_sunset = dialog.activity_plots["sunset"].getPlotItem().items[0].opts["x"]
    assert any(60 <= x <= 70 for x in after_sunset)

    # Species by night, per site: two sites, each two nights.
    assert [dialog.site_box.itemText(i) for i in range(dialog.site_box.count())] == [
        m.site for m in dialog.matrices
    ]
    assert len(dialog.matrices) == 2
    for i, matrix in enumerate(dialog.matrices):
        dialog.site_box.setCurrentIndex(i)
        assert matrix.nights == ("2024-06-10", "2024-06-11")
        images = [x for x in dialog.nights_plot.getPlotItem().items if isinstance(x, pg.ImageItem)]
        assert images[0].image.shape == (2, len(matrix.species))

    # Sites: both at their GUANO positions, in the table and the scatter.
    table = dialog.sites_table
    assert table.rowCount() == 2
    found = {(float(table.item(r, 1).text()), float(table.item(r, 2).text())) for r in range(2)}
    assert found == set(SITES.values())
    assert {table.item(r, 3).text() for r in range(2)} == {"GUANO"}
    scatter = [
        x for x in dialog.sites_plot.getPlotItem().items if isinstance(x, pg.ScatterPlotItem)
    ]
    xs, ys = scatter[0].getData()
    assert sorted(zip(ys.tolist(), xs.tolist(), strict=True)) == sorted(SITES.values())

    # Emergence: one row per species with passes, its first passes about an hour after sunset.
    ticks = dialog.emergence_plot.getPlotItem().getAxis("left")._tickLevels[0]
    assert [name for _, name in ticks] == sorted({e.species for e in activity.emergence})
    firsts = [
        x for item in dialog.emergence_plot.getPlotItem().items
        if isinstance(item, pg.ScatterPlotItem) for x in item.getData()[0]
    ]  # fmt: skip
    assert min(firsts) >= 55
    assert "placed relative to the sun" in dialog.note.text()


def test_a_folder_without_positions_gets_one_kept_for_the_figures_and_the_report(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    folder = tmp_path / "survey"
    (folder / "pond").mkdir(parents=True)
    for k, hour in enumerate((23, 1)):  # timestamps with their offset, no position
        when = dt.datetime(2024, 6, 10 + k, hour, 0, tzinfo=CEST)
        write_wav(folder / "pond" / f"r{k}.wav", chirp_train(384_000, 4.0, seed=k), 384_000,
                  extra_chunks=guano_chunk({"Timestamp": when.isoformat()}))  # fmt: skip
    window = open_analysed(qtbot, make_window, folder, model_set_dir)
    assert len(window.recordings.rows) == 2
    window.thresholds.set_all(0.2)
    window.refresh_detections()
    window.survey_figures.open()
    dialog = window.survey_figures.dialog
    qtbot.waitUntil(lambda: not dialog.is_computing)
    activity = dialog.activity
    assert activity.placed_passes == 0
    assert activity.unplaced_passes > 0
    assert "no position" in dialog.note.text()
    assert dialog.folder_box.count() == 1
    assert dialog.folder_box.currentData() == folder.resolve() / "pond"

    dialog.position_edit.setText("95, 4.9")  # no latitude beyond the poles
    dialog.set_position_button.click()
    assert "±90" in dialog.note.text()
    assert window.session.site_positions == {}
    dialog.position_edit.setText("52.37, 4.89")
    dialog.set_position_button.click()
    qtbot.waitUntil(lambda: not dialog.is_computing)
    assert dialog.activity.unplaced_passes == 0
    assert dialog.activity.placed_passes == activity.unplaced_passes
    (site,) = dialog.activity.sites
    assert (site.latitude, site.longitude, site.position_source) == (52.37, 4.89, "given")
    assert dialog.position_edit.text() == "52.37000, 4.89000"
    store_path = window.session.store.path
    window.close()

    # Kept in the store, portable (relative to the survey folder), read by the report command.
    import json
    import sqlite3

    with sqlite3.connect(store_path) as conn:
        (text,) = conn.execute("SELECT value FROM meta WHERE key = 'site_positions'").fetchone()
    assert json.loads(text)["folders"] == [{"folder": "pond", "latitude": 52.37, "longitude": 4.89}]
    from cli_runner import run_cli

    out = tmp_path / "report.html"
    rc, _stdout, stderr = run_cli(["report", str(store_path), "--out", str(out)])
    assert rc == 0, stderr
    assert "not placed relative to the sun" not in stderr
    html = out.read_text(encoding="utf-8")
    assert "52.37000" in html
