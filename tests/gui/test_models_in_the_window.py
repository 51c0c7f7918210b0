"""Without models the window says so and offers Download / Choose folder; the choice is kept."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from audio_factory import chirp_train, write_wav
from cli_runner import run_cli
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog
from release_server import build_release, serve_release

from bsgbat_gui.core.model_card import MODEL_FILENAMES
from bsgbat_gui.core.models.locate import user_models_dir
from bsgbat_gui.core.session.recordings import STATUS_DONE, STATUS_NOT_ANALYSED
from bsgbat_gui.gui.settings import AppSettings

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def recordings(folder: Path) -> Path:
    folder.mkdir()
    for i in range(2):
        write_wav(folder / f"r{i}.wav", chirp_train(384_000, 1.2, seed=i), 384_000)
    return folder


def statuses(window) -> set[str]:
    return {r.status for r in window.recordings.rows}


def test_choosing_a_model_folder_analyses_and_is_remembered(
    qtbot, make_window, app_settings, tmp_path: Path, model_set_dir: Path, monkeypatch
) -> None:
    window = make_window(paths=[recordings(tmp_path / "night")])
    assert window.banner.isVisible()
    assert window.banner.download_button.isVisible()
    qtbot.waitUntil(lambda: statuses(window) == {STATUS_NOT_ANALYSED}, timeout=30_000)
    # A folder without models is refused with a reason; the banner stays.
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a: str(tmp_path))
    window.banner.choose_button.click()
    assert window.banner.isVisible()
    assert "Not a model folder" in window.banner.text()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a: str(model_set_dir))
    window.banner.choose_button.click()
    assert not window.banner.isVisible()
    qtbot.waitUntil(lambda: statuses(window) == {STATUS_DONE}, timeout=60_000)
    assert app_settings.models_folder == model_set_dir
    window.close()
    again = make_window(paths=[])
    assert again.model_sets.models_dir == model_set_dir
    assert not again.banner.isVisible()


def test_download_button_installs_the_models(
    qtbot, make_window, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    release = build_release(tmp_path_factory.mktemp("release"))
    settings_file = str(tmp_path / "settings.ini")
    with serve_release(release) as (url, _state):
        QSettings(settings_file, QSettings.Format.IniFormat).setValue("models/base_url", url)
        settings = AppSettings(QSettings(settings_file, QSettings.Format.IniFormat))
        window = make_window(paths=[recordings(tmp_path / "night")], settings=settings)
        assert window.banner.isVisible()
        with qtbot.waitSignal(window.model_sets.downloader.finished, timeout=60_000) as done:
            window.banner.download_button.click()
        assert done.args[0] == 0, done.args[1]
    assert not window.banner.isVisible()
    assert all((user_models_dir() / name).is_file() for name in MODEL_FILENAMES)
    qtbot.waitUntil(lambda: statuses(window) == {STATUS_DONE}, timeout=60_000)


def test_a_failed_download_says_why_and_keeps_the_window_usable(
    qtbot, make_window, tmp_path: Path
) -> None:
    settings_file = str(tmp_path / "settings.ini")
    QSettings(settings_file, QSettings.Format.IniFormat).setValue(
        "models/base_url", "http://127.0.0.1:1/release"
    )
    settings = AppSettings(QSettings(settings_file, QSettings.Format.IniFormat))
    window = make_window(paths=[], settings=settings)
    with qtbot.waitSignal(window.model_sets.downloader.finished, timeout=60_000) as done:
        window.model_sets.download()
    assert done.args[0] == 1
    assert window.banner.isVisible()
    assert "cannot reach" in window.banner.text()
    assert window.banner.download_button.isEnabled()  # try again


def test_an_incomplete_model_set_is_used_and_said(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    """1 of 6 checkpoints (a half-finished download): the recordings are analysed, and the
    banner says the ensemble is incomplete (as `models verify` would); so does `analyze`."""
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in (MODEL_FILENAMES[0], "bsgbat_labels.txt"):
        shutil.copy(model_set_dir / name, partial / name)
    folder = recordings(tmp_path / "night")
    window = make_window(paths=[folder], models_dir=partial)
    qtbot.waitUntil(lambda: statuses(window) == {STATUS_DONE}, timeout=60_000)
    assert window.banner.isVisible()
    assert "Incomplete model set" in window.banner.text()
    assert "only 1 of the 6" in window.banner.text()
    rc, _, err = run_cli(["analyze", str(folder), "--models", str(partial)])
    assert rc == 0
    assert f"warning: {partial}: only 1 of the 6 BSG-BAT checkpoints" in err
