"""The linear-frequency view (F) and the cursor readout, on real recordings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QPointF, Qt
from real_recordings import real_recording

from bsgbat_gui.gui.spectrogram_view import LINEAR_BAND_KHZ, linear_band, mel_position

if TYPE_CHECKING:
    from pathlib import Path

    from bsgbat_gui.gui.main_window import MainWindow

pytestmark = pytest.mark.real_recordings


def open_shown(qtbot, make_window, path: Path, tmp_path: Path) -> MainWindow:
    # Opened through a link in a folder of the test's own: the window keeps its review store
    # beside what it opened, and the shared recordings are never written into.
    folder = tmp_path / "opened"
    folder.mkdir()
    (folder / path.name).symlink_to(path)
    window = make_window(paths=[folder], models_dir=tmp_path / "no-models")
    window.recordings_panel.select_row(0)
    qtbot.waitUntil(lambda: window.spectrogram_view.spectrogram is not None, timeout=30_000)
    return window


def press_f(qtbot, window: MainWindow) -> None:
    """The key as a user presses it, with the focus where the window starts it."""
    qtbot.keyClick(window.recordings_panel.table, Qt.Key.Key_F)


def wait_linear(qtbot, window: MainWindow) -> None:
    view = window.spectrogram_view
    qtbot.waitUntil(
        lambda: view.linear is not None and view.linear_image.isVisible(), timeout=30_000
    )
    assert view.message_text() == ""  # "Computing…" is gone with the image's arrival


def test_f_switches_to_the_linear_view_and_back_keeping_the_time_range(
    qtbot, make_window, app_settings, tmp_path: Path
) -> None:
    window = open_shown(qtbot, make_window, real_recording("M500"), tmp_path)
    view = window.spectrogram_view
    assert not view.linear_axis
    view.plot.setXRange(0.5, 1.5, padding=0)
    press_f(qtbot, window)
    assert view.linear_axis
    assert window.action_table.linear_axis_action.isChecked()
    wait_linear(qtbot, window)
    assert view.visible_range() == pytest.approx((0.5, 1.5), abs=1e-6)
    assert window.track_view.viewRange()[0] == pytest.approx([0.5, 1.5], abs=1e-6)
    assert not view.base_layer.item.isVisible()
    # The visible span, at about one column per pixel of the plot.
    linear = view.linear
    assert linear is not None
    assert linear.start_s <= 0.5
    assert linear.end_s >= 1.5
    width_px = view.plot.vb.width()
    columns_on_screen = 1.0 / linear.seconds_per_column
    assert 0.6 * width_px <= columns_on_screen <= 2.5 * width_px
    # y in true kHz: the 9-150 kHz band, the detection lanes' strip above it.
    bottom, top, strip = linear_band(192.0)
    assert (bottom, top) == LINEAR_BAND_KHZ
    assert view.plot.viewRange()[1] == pytest.approx([bottom, top + strip])
    assert view.event_shading.top == top
    assert app_settings.linear_frequency_axis
    press_f(qtbot, window)
    assert not view.linear_axis
    assert not view.linear_image.isVisible()
    assert view.base_layer.item.isVisible()
    assert view.visible_range() == pytest.approx((0.5, 1.5), abs=1e-6)
    assert view.plot.viewRange()[1] == pytest.approx([0.0, 128 + view.event_shading.strip])
    assert not app_settings.linear_frequency_axis


def test_zooming_in_recomputes_the_linear_view_finer(qtbot, make_window, tmp_path: Path) -> None:
    window = open_shown(qtbot, make_window, real_recording("M500"), tmp_path)
    view = window.spectrogram_view
    press_f(qtbot, window)
    wait_linear(qtbot, window)
    assert view.linear is not None
    coarse = view.linear.seconds_per_column
    with qtbot.waitSignal(window.spectrogram_loader.linear_loaded, timeout=30_000):
        view.plot.setXRange(1.0, 1.05, padding=0)
    qtbot.waitUntil(lambda: view.linear.seconds_per_column < coarse, timeout=5_000)
    assert view.linear.start_s <= 1.0
    assert view.linear.end_s >= 1.05


def test_the_linear_image_reaches_the_true_nyquist_frequency(
    qtbot, make_window, tmp_path: Path
) -> None:
    # 144 kHz: nothing above 72 kHz was recorded; the image and the axis stop there.
    window = open_shown(qtbot, make_window, real_recording("Kuhls"), tmp_path)
    view = window.spectrogram_view
    press_f(qtbot, window)
    wait_linear(qtbot, window)
    linear = view.linear
    assert linear is not None
    assert linear.nyquist_khz == 72.0
    rect = view.linear_image.mapRectToParent(view.linear_image.boundingRect())
    assert rect.bottom() == pytest.approx(72.0, abs=linear.bin_khz / 2 + 1e-9)
    _, top, strip = linear_band(72.0)
    assert top == 72.0
    assert view.plot.viewRange()[1][1] == pytest.approx(72.0 + strip)


def test_time_expanded_recording_in_true_seconds_and_khz(
    qtbot, make_window, tmp_path: Path
) -> None:
    window = open_shown(qtbot, make_window, real_recording("Car370293"), tmp_path)
    view = window.spectrogram_view
    press_f(qtbot, window)
    wait_linear(qtbot, window)
    linear = view.linear
    assert linear is not None
    assert linear.nyquist_khz == 192.0  # 38.4 kHz in the header, times 10
    assert view.visible_range()[1] == pytest.approx(4.099, abs=0.01)
    assert linear.end_s >= 4.09


def test_the_linear_axis_is_remembered(qtbot, make_window, app_settings, tmp_path: Path) -> None:
    app_settings.linear_frequency_axis = True
    window = open_shown(qtbot, make_window, real_recording("M500"), tmp_path)
    assert window.spectrogram_view.linear_axis
    assert window.action_table.linear_axis_action.isChecked()
    wait_linear(qtbot, window)


def scene_point(window: MainWindow, t_s: float, y: float) -> QPointF:
    return window.spectrogram_view.plot.vb.mapViewToScene(QPointF(t_s, y))


def test_the_readout_shows_true_time_frequency_and_level(
    qtbot, make_window, tmp_path: Path
) -> None:
    window = open_shown(qtbot, make_window, real_recording("M500"), tmp_path)
    view = window.spectrogram_view
    # Mel: the kHz under the mouse, from its mel position.
    reading = view.reading_at(scene_point(window, 1.0, mel_position(50_000.0)))
    assert reading is not None
    assert reading.t_s == pytest.approx(1.0, abs=0.005)
    assert reading.freq_khz == pytest.approx(50.0, abs=0.2)
    assert reading.value is not None
    press_f(qtbot, window)
    wait_linear(qtbot, window)
    linear = view.linear
    assert linear is not None
    reading = view.reading_at(scene_point(window, 1.0, 50.0))
    assert reading is not None
    assert reading.t_s == pytest.approx(1.0, abs=0.005)
    assert reading.freq_khz == pytest.approx(50.0, abs=0.5)
    assert reading.value == linear.value_at(reading.t_s, reading.freq_khz)
    # Over the events strip: time only; over the tracks: time only.
    strip = view.reading_at(scene_point(window, 1.0, 155.0))
    assert strip is not None
    assert strip.freq_khz is None
    # The mouse itself, as the user moves it: the label follows (throttled).
    viewport_pos = view.mapFromScene(scene_point(window, 0.75, 60.0))
    qtbot.mouseMove(view.viewport(), viewport_pos)
    qtbot.waitUntil(lambda: "kHz" in view.readout.text(), timeout=5_000)
    text = view.readout.text()
    assert text.startswith("0.7")
    assert " s · " in text
    assert "dB" in text
