"""The window opens a folder holding the whole bad-input corpus (tests/bad_inputs.py): it does
not abort (a link loop used to), each bad file says why in its row or the status bar, the good
ones are analysed, and nothing raises in a Qt callback (pytest-qt fails the test if it does)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bad_inputs import ERROR, build_corpus
from test_main_window import all_finished

from bsgbat_gui.core.export.formats import EXPORT_FORMATS, KALEIDOSCOPE_COLUMNS, preview_export
from bsgbat_gui.core.session.recordings import STATUS_DONE, STATUS_FAILED

if TYPE_CHECKING:
    from pathlib import Path


def test_the_window_opens_the_bad_input_corpus(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    folder = tmp_path / "night"
    corpus = build_corpus(folder)
    window = make_window(paths=[folder], models_dir=model_set_dir)
    qtbot.waitUntil(lambda: all_finished(window) and not window.analysis_runs.busy, timeout=180_000)
    rows = {r.path.name: r for r in window.recordings.rows}
    for entry in corpus:
        if entry.name == "bad\\xff.wav":  # a name that is not text: not opened, and said so
            assert entry.name not in rows
            assert "bad\\xff.wav" in window.status_label.text()
            assert "not valid UTF-8" in window.status_label.text()
            continue
        row = rows[entry.name.replace("\\n", "\n")]
        if entry.outcome == ERROR:
            assert row.status == STATUS_FAILED, entry
            assert entry.says in row.reason, (entry, row.reason)
        else:
            assert row.status == STATUS_DONE, (entry, row.status, row.reason)
    # Every usable recording can be shown, the bad ones included, without taking it down.
    for proxy_row in range(window.recordings_panel.model.rowCount()):
        window.recordings_panel.select_row(proxy_row)
    qtbot.wait(200)
    # The export panel (Ctrl+E) previews every format of this folder (a year-1 GUANO date
    # once killed the process here).
    window.show_export_panel()
    panel = window.export_panel
    assert panel is not None
    assert panel.isVisible()
    for fmt in EXPORT_FORMATS:
        panel.set_choice(fmt=fmt)
        panel.refresh()
        assert panel.preview is not None
        assert panel.preview.count >= 0
    ids = preview_export("kaleidoscope", panel.recordings, limit=100)
    year_one = next(
        r for r in ids.rows if r[KALEIDOSCOPE_COLUMNS.index("IN FILE")] == "year-one.wav"
    )
    assert year_one[KALEIDOSCOPE_COLUMNS.index("DATE")] == ""
    assert window.isVisible()
