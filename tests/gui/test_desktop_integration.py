"""Desktop conventions: first-run welcome and demo, recent files, themes, About, full screen,
standard shortcuts, drag and drop."""

from __future__ import annotations

import shutil
from pathlib import Path

from audio_factory import chirp_train, write_wav
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication

from bsgbat_gui.core.resources import DEMO_NOTICE, DEMO_RECORDING, resource_path, user_demo_dir
from bsgbat_gui.gui.about import AboutDialog, library_versions
from bsgbat_gui.gui.theme import THEME_DARK, THEME_LIGHT, is_dark


def test_first_run_offers_the_demo_and_says_it_is_synthesised(
    qtbot, make_window, model_set_dir: Path
) -> None:
    window = make_window(paths=[], models_dir=model_set_dir)
    assert window.welcome.isVisible()
    assert window.welcome.demo_button.isVisible()
    assert "No recordings open" in window.welcome.text()
    qtbot.mouseClick(window.welcome.demo_button, Qt.MouseButton.LeftButton)
    demo = user_demo_dir() / Path(DEMO_RECORDING).name
    assert demo.read_bytes() == resource_path(DEMO_RECORDING).read_bytes()
    assert [r.path for r in window.recordings.rows] == [demo.resolve()]
    # The notice stays for as long as the demo is open; the store is beside the copy.
    assert window.welcome.isVisible()
    assert DEMO_NOTICE in window.welcome.text()
    assert not window.welcome.demo_button.isVisible()
    assert window.review.store is not None
    assert window.review.store.path.parent == demo.parent
    qtbot.waitUntil(lambda: window.spectrogram_view.spectrogram is not None, timeout=60_000)
    qtbot.waitUntil(lambda: window.track_view.analysis is not None, timeout=120_000)
    assert window.settings.recent == []  # the demo is not one of the user's recordings
    assert "how the app works, not a species" in window.welcome.text()


def test_the_demo_without_models_says_what_it_shows_and_what_models_add(
    qtbot, make_window, tmp_path: Path
) -> None:
    window = make_window(paths=[], models_dir=tmp_path / "no-models")
    qtbot.mouseClick(window.welcome.demo_button, Qt.MouseButton.LeftButton)
    text = window.welcome.text()
    assert DEMO_NOTICE in text
    assert "spectrogram only" in text
    assert "Download models" in text
    assert "tracks show what the app does" not in text
    qtbot.waitUntil(lambda: window.spectrogram_view.spectrogram is not None, timeout=60_000)
    qtbot.waitUntil(lambda: window.recordings.rows[0].status == "not analysed", timeout=60_000)
    cell = window.recordings.data(window.recordings.index(0, 3))
    assert cell == "not analysed (no classifier installed)"
    qtbot.waitUntil(lambda: not window.analysis_runs.busy, timeout=30_000)
    assert "0 analysed" not in window.status_label.text()
    assert "classifier is not installed" in window.status_label.text()


def test_opening_real_data_hides_the_welcome_and_remembers_files_and_folders(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    folder = tmp_path / "night"
    folder.mkdir()
    write_wav(folder / "a.wav", chirp_train(384_000, 1.0), 384_000)
    other = write_wav(tmp_path / "single.wav", chirp_train(384_000, 1.0), 384_000)
    window = make_window(paths=[], models_dir=model_set_dir)
    window.open_paths([folder])
    assert not window.welcome.isVisible()
    window.open_paths([other])
    assert window.settings.recent == [other.resolve(), folder.resolve()]
    entries = [a.text() for a in window.action_table.recent_menu.actions() if not a.isSeparator()]
    assert entries == [str(other.resolve()), str(folder.resolve()), "Clear list"]
    # A recording that has gone (card unplugged) stays listed, disabled, marked missing.
    window.open_paths([other])  # leaves the folder's review store
    shutil.rmtree(folder)
    window.action_table.refresh_recent_menu()
    missing = window.action_table.recent_menu.actions()[1]
    assert missing.text().endswith("(missing)")
    assert not missing.isEnabled()
    window.action_table.recent_menu.actions()[0].trigger()
    assert [r.path for r in window.recordings.rows] == [other.resolve()]
    clear = next(a for a in window.action_table.recent_menu.actions() if a.text() == "Clear list")
    clear.trigger()
    assert window.settings.recent == []
    assert not window.action_table.recent_menu.isEnabled()


def test_files_and_folders_dropped_on_the_window_are_opened(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    paths = [
        write_wav(tmp_path / f"d{i}.wav", chirp_train(384_000, 1.0), 384_000) for i in range(2)
    ]
    window = make_window(paths=[], models_dir=model_set_dir)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    drop = QDropEvent(
        QPoint(50, 50), Qt.DropAction.CopyAction, data,
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    window.dropEvent(drop)
    assert sorted(r.path for r in window.recordings.rows) == sorted(p.resolve() for p in paths)


def test_theme_choice_applies_at_once_and_persists(qtbot, make_window, app_settings) -> None:
    window = make_window(paths=[])
    app = QApplication.instance()
    by_theme = {a.data(): a for a in window.action_table.theme_actions.actions()}
    by_theme[THEME_DARK].trigger()
    window_colour = app.palette().color(QPalette.ColorRole.Window)
    assert window_colour.lightness() < 80
    assert app_settings.theme == THEME_DARK
    by_theme[THEME_LIGHT].trigger()
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 180
    assert app_settings.theme == THEME_LIGHT
    assert not is_dark(THEME_LIGHT)
    second = make_window(paths=[])  # a new window starts with the saved theme
    assert second.theme.theme == THEME_LIGHT
    checked = [a for a in second.action_table.theme_actions.actions() if a.isChecked()]
    assert [a.data() for a in checked] == [THEME_LIGHT]


def test_about_lists_versions_attribution_and_licences(qtbot, make_window) -> None:
    window = make_window(paths=[])
    versions = library_versions()
    for name in ("bsgbat-gui", "Qt", "PySide6", "pyqtgraph", "onnxruntime", "librosa", "numpy",
                 "libsndfile"):  # fmt: skip
        assert versions[name], name
        assert versions[name] != "not found", name
    dialog = AboutDialog(window)
    qtbot.addWidget(dialog)
    text = dialog.text.text()
    for expected in ("CC-BY-4.0", "bsg-bat team", "10.5281/zenodo.15495676", "MIT", "synthesised"):
        assert expected in text
    assert versions["onnxruntime"] in text
    assert versions["Qt"] in text
    dialog.copy_details()
    copied = QApplication.clipboard().text()
    assert f"onnxruntime: {versions['onnxruntime']}" in copied


def test_standard_shortcuts_and_full_screen(qtbot, make_window) -> None:
    window = make_window(paths=[])
    shortcuts = {a.text(): a.shortcut() for a in window.actions()}
    assert shortcuts["Open files…"] == QKeySequence(QKeySequence.StandardKey.Open)
    assert shortcuts["Quit"] == QKeySequence(QKeySequence.StandardKey.Quit)
    assert shortcuts["Keyboard shortcuts"] == QKeySequence(QKeySequence.StandardKey.HelpContents)
    assert shortcuts["Full screen"] == QKeySequence(QKeySequence.StandardKey.FullScreen)
    # No key does two things.
    keys = [a.shortcut().toString() for a in window.actions() if not a.shortcut().isEmpty()]
    assert len(keys) == len(set(keys))
    window.action_table.full_screen_action.trigger()
    qtbot.waitUntil(window.isFullScreen, timeout=5_000)
    assert window.action_table.full_screen_action.isChecked()
    window.action_table.full_screen_action.trigger()
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=5_000)


def test_quitting_with_the_window_open_saves_and_stops_every_helper(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    """Session end or ``app.quit()`` does not close the window: the helpers must stop anyway
    (a running QThread destroyed later aborts the process) and the review store be closed."""
    folder = tmp_path / "night"
    folder.mkdir()
    write_wav(folder / "a.wav", chirp_train(384_000, 1.0), 384_000)
    window = make_window(paths=[folder], models_dir=model_set_dir)
    qtbot.waitUntil(lambda: window.track_view.analysis is not None, timeout=120_000)
    store = window.review.store
    assert store is not None
    app = QApplication.instance()
    assert app is not None
    app.aboutToQuit.emit()  # what QCoreApplication::exec emits as it returns
    assert window.review.store is None
    assert not window.playback.preparer._thread.isRunning()
    assert not window.spectrogram_loader._thread.isRunning()
    assert not window.analysis.is_running
    assert window.settings.geometry("geometry") is not None
    window.close()  # and closing afterwards is harmless
