"""The main window: background analysis, tracks, cancel, and an event loop that never stalls."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
from audio_factory import chirp_train, write_wav

from bsgbat_gui.core.session.recordings import STATUS_DONE, STATUS_FAILED, STATUS_NOT_ANALYSED
from bsgbat_gui.gui.recordings_panel import COL_RATE

if TYPE_CHECKING:
    from pathlib import Path

FINISHED = (STATUS_DONE, STATUS_FAILED, STATUS_NOT_ANALYSED)


def make_folder(folder: Path, n: int = 3, seconds: float = 2.2) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_wav(folder / f"rec{i}.wav", chirp_train(384_000, seconds, seed=i), 384_000)
        for i in range(n)
    ]


def all_finished(window) -> bool:
    return bool(window.recordings.rows) and all(
        r.status in FINISHED for r in window.recordings.rows
    )


def test_folder_is_analysed_in_the_background_and_tracks_appear(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    good = make_folder(tmp_path / "night")
    (tmp_path / "night" / "broken.wav").write_text("not audio")
    window = make_window(paths=[tmp_path / "night"], models_dir=model_set_dir)
    assert len(window.recordings.rows) == 4
    qtbot.waitUntil(lambda: all_finished(window), timeout=120_000)
    statuses = {r.path.name: r.status for r in window.recordings.rows}
    assert statuses == {"broken.wav": STATUS_FAILED, **{p.name: STATUS_DONE for p in good}}
    broken = window.recordings.row_for(tmp_path / "night" / "broken.wav")
    assert broken is not None
    assert "not an audio file" in broken.reason
    # Selecting a good recording shows its spectrogram and its tracks.
    window.recordings_panel.select_row(1)
    assert window.current_path == good[0]
    qtbot.waitUntil(lambda: window.spectrogram_view.image.image is not None, timeout=30_000)
    assert window.spectrogram_view.image.image.shape[1] == 128
    qtbot.waitUntil(lambda: len(window.track_view.visible_curves()) == 5, timeout=30_000)
    current = window.recordings.row_for(window.current_path)
    assert current is not None
    assert current.analysis is not None
    label = next(iter(window.track_view.visible_curves()))
    x, y = window.track_view.track_data(label)
    # Steps: one value per window, edges from 0 s to the recording's end.
    assert len(y) == len(current.analysis.windows)
    assert len(x) == len(y) + 1
    assert x[0] == 0
    assert x[-1] == pytest.approx(current.info.duration_s)
    assert np.all(np.diff(x) > 0)


@pytest.mark.real_recordings
def test_real_recordings_folder(
    qtbot, make_window, recordings_dir: Path, model_set_dir: Path, tmp_path: Path
) -> None:
    # Links to the real recordings, so the folder's review store is made in tmp_path and never
    # beside the shared recordings.
    folder = tmp_path / "linked"
    folder.mkdir()
    for path in recordings_dir.iterdir():
        if path.suffix.lower() == ".wav":
            (folder / path.name).symlink_to(path)
    window = make_window(paths=[folder], models_dir=model_set_dir)
    qtbot.waitUntil(lambda: all_finished(window), timeout=180_000)
    assert all(r.status == STATUS_DONE for r in window.recordings.rows)
    te_row = next(r for r in window.recordings.rows if r.path.name.startswith("Car370293"))
    assert te_row.info is not None
    assert te_row.info.true_rate_hz == 384_000
    assert "TE ×10" in window.recordings.data(
        window.recordings.index(window.recordings.position_of(te_row.path), COL_RATE)
    )


def test_cancel_stops_the_run(qtbot, make_window, tmp_path: Path, model_set_dir: Path) -> None:
    make_folder(tmp_path / "long", n=4, seconds=25.0)
    window = make_window(paths=[tmp_path / "long"], models_dir=model_set_dir)
    qtbot.waitUntil(lambda: any(r.progress > 0 for r in window.recordings.rows), timeout=60_000)
    window.cancel_button.click()
    qtbot.waitUntil(
        lambda: (
            not window.analysis._retired
            or not any(t.isRunning() for t, _ in window.analysis._retired)
        ),
        timeout=30_000,
    )
    statuses = [r.status for r in window.recordings.rows]
    assert STATUS_NOT_ANALYSED in statuses
    assert statuses.count(STATUS_DONE) < 4
    assert "cancelled" in window.status_label.text()


def test_selected_recording_jumps_the_queue(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    paths = make_folder(tmp_path / "q", n=5, seconds=6.0)
    window = make_window(paths=[tmp_path / "q"], models_dir=model_set_dir)
    window.recordings_panel.select_row(4)
    qtbot.waitUntil(
        lambda: window.recordings.row_for(paths[4]).status == STATUS_DONE, timeout=60_000
    )
    # It was analysed before at least one recording that precedes it in the list.
    assert any(window.recordings.row_for(p).status != STATUS_DONE for p in paths[1:4])


def test_without_models_the_window_still_browses(qtbot, make_window, tmp_path: Path) -> None:
    make_folder(tmp_path / "n", n=1)
    window = make_window(paths=[tmp_path / "n"], models_dir=tmp_path / "no-models")
    assert window.banner.isVisible()
    # In words a user understands; paths and variables only under Details.
    words = window.banner.label.text()
    assert "classifier is not installed" in words
    assert "download" in words
    assert "$BSGBAT_MODELS" not in words
    assert str(tmp_path) not in words
    assert not window.banner.details.isVisible()
    window.banner.details_button.click()
    assert window.banner.details.isVisible()
    assert "no-models" in window.banner.details.text()
    qtbot.waitUntil(lambda: window.spectrogram_view.image.image is not None, timeout=30_000)
    qtbot.waitUntil(lambda: all_finished(window), timeout=30_000)
    assert window.recordings.rows[0].status == STATUS_NOT_ANALYSED


def test_colour_map_and_geometry_persist(qtbot, make_window, app_settings, tmp_path: Path) -> None:
    window = make_window(paths=[])
    window.action_table.colour_map_box.setCurrentText("magma")
    window.close()
    again = make_window(paths=[])
    assert again.action_table.colour_map_box.currentText() == "magma"
    assert again.spectrogram_view.colour_map == "magma"


def test_long_recording_has_an_overview_and_detail_on_zoom(
    qtbot, make_window, tmp_path: Path
) -> None:
    # 70 s: more frames than the 30 000 columns a whole-recording image keeps, so it is reduced.
    path = write_wav(tmp_path / "long.wav", chirp_train(384_000, 70.0, seed=3), 384_000)
    window = make_window(paths=[path], models_dir=tmp_path / "no-models")
    view = window.spectrogram_view
    window.recordings_panel.select_row(0)
    qtbot.waitUntil(lambda: view.base_layer.data is not None, timeout=60_000)
    assert view.overview_shown
    assert view.overview_region.getRegion() == pytest.approx((0.0, 70.0), abs=0.05)
    with qtbot.waitSignal(window.spectrogram_loader.detail_loaded, timeout=60_000) as detail:
        # 0.4 s: finer than the reduced image's 2 frames per column on any screen.
        view.plot.setXRange(30.0, 30.4, padding=0)
    assert detail.args[0].spectrogram.frames_per_column == 1
    assert detail.args[0].spectrogram.start_s <= 30.0
    assert detail.args[0].spectrogram.end_s >= 30.4
    qtbot.waitUntil(lambda: view.detail_layer.item.isVisible(), timeout=5_000)
    assert view.overview_region.getRegion() == pytest.approx((30.0, 30.4), abs=0.01)
    # The overview drives the main view too.
    view.overview_region.setRegion((10.0, 20.0))
    assert view.visible_range() == pytest.approx((10.0, 20.0), abs=0.01)


def test_recordings_table_signals_only_the_rows_that_changed(qtbot, tmp_path: Path) -> None:
    """After each analysed file the species and review columns are refreshed: only the cells
    of the rows that changed are said to have changed (one signal over their span), and a
    change that alters nothing says nothing."""
    from bsgbat_gui.core.session.recordings import RecordingList
    from bsgbat_gui.gui.recordings_panel import COL_REVIEWED, COL_SPECIES, RecordingsModel

    recordings = RecordingList()  # the session's list; the Qt model only shows it
    model = RecordingsModel(recordings)
    paths = [tmp_path / f"r{i}.wav" for i in range(6)]
    recordings.set_paths(paths, "done")
    recordings.set_labels(("Myotis daubentonii", "Nyctalus noctula", "Background"))
    assert model.rowCount() == 6
    changed: list[tuple[int, int, int]] = []
    model.dataChanged.connect(
        lambda first, last, *_: changed.append((first.row(), last.row(), first.column()))
    )
    myodau, nycnoc = 1, 2  # the labels' bits
    species = np.array([0, nycnoc, nycnoc, 0, myodau, 0], dtype=np.uint64)
    recordings.set_species_masks(species.copy())
    assert changed == [(1, 4, COL_SPECIES)]
    changed.clear()
    recordings.set_species_masks(species.copy())
    assert changed == []  # nothing new, nothing said
    recordings.set_review_columns(  # row 5: 1 of 3 decided; row 0 marked reviewed
        np.array([0, 0, 0, 0, 0, 1]), np.array([0, 0, 0, 0, 0, 3]),
        np.array([True, False, False, False, False, False]), np.zeros(6, dtype=bool),
    )  # fmt: skip
    assert changed == [(0, 5, COL_REVIEWED)]
    assert model.rows[5].events_reviewed == 1
    assert model.rows[5].events_total == 3
    assert model.rows[0].marked_reviewed
    assert model.rows[1].species == ("Nyctalus noctula",)
