"""The window opens offscreen on a folder and shows what it found."""

from __future__ import annotations

from pathlib import Path

from conftest import chirp_train, write_wav

from bsgbat_gui.gui.main_window import MainWindow


def test_window_lists_recordings_and_model_set(qtbot, tmp_path: Path, model_set_dir: Path) -> None:
    write_wav(tmp_path / "a.wav", chirp_train(384_000, 0.5), 384_000)
    write_wav(tmp_path / "b.wav", chirp_train(384_000, 0.5), 384_000)
    window = MainWindow(paths=[tmp_path], models_dir=model_set_dir)
    qtbot.addWidget(window)
    window.show()
    assert window.recordings_list.count() == 2
    assert "6 model(s)" in window.models_label.text()


def test_window_without_models_says_so(qtbot, tmp_path: Path) -> None:
    window = MainWindow(paths=[], models_dir=tmp_path / "none")
    qtbot.addWidget(window)
    assert window.models_label.text().startswith("No model set")
