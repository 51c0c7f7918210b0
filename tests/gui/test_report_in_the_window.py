"""File → Export report…: the survey report of what the window shows, written off the GUI
thread, with the window's decisions in it; read back as HTML."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import TYPE_CHECKING

from audio_factory import chirp_train, write_wav
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from test_review_in_the_window import open_analysed, press

if TYPE_CHECKING:
    from pathlib import Path


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_report_of_the_shown_survey_is_written_in_the_background(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path, monkeypatch
) -> None:
    night = tmp_path / "night"
    night.mkdir()
    for i in range(2):
        write_wav(night / f"rec{i}.wav", chirp_train(384_000, 3.0, seed=60 + i), 384_000)
    window = open_analysed(qtbot, make_window, night, model_set_dir)
    window.thresholds.set_all(0.2)
    window.recordings_panel.select_row(0)
    press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_A)  # one confirmed detection, by this window
    assert len(window.review.decisions) == 1
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), ""))
    )
    with qtbot.waitSignal(window.report_exporter.writer.finished, timeout=60_000) as done:
        window.report_exporter.export()
    assert done.args == [""]
    assert f"Survey report written: {out}" in window.status_label.text()
    page = _Tags()
    page.feed(out.read_text(encoding="utf-8"))
    assert page.tags.count("table") >= 3
    assert "svg" in page.tags
    text = " ".join(page.text)
    assert "Bat survey: night" in text
    assert "Species" in text
    assert "<script" not in out.read_text(encoding="utf-8")
    assert window.settings.export_folder == out.parent  # the next save dialog starts there


def test_nothing_analysed_is_said_not_written(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window(paths=[], models_dir=tmp_path / "no-models")
    window.report_exporter.export()
    assert "no recording of this survey is analysed" in window.status_label.text()
