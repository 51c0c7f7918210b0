"""The Export panel: its preview follows the thresholds and decisions, it writes what the headless
command writes, imports are undoable, and GUANO write-back runs off the GUI thread."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import guano
from audio_factory import chirp_train, write_wav
from PySide6.QtCore import Qt
from test_review_in_the_window import open_analysed, press

from bsgbat_gui.__main__ import _subcommand_parser
from bsgbat_gui.core.export.formats import EXPORT_CSV_COLUMNS, EXPORT_FORMATS
from bsgbat_gui.core.export.guano import guano_updates
from bsgbat_gui.core.review.decisions import STATUS_CONFIRMED
from bsgbat_gui.core.review.survey import select_recordings
from bsgbat_gui.core.species import species_for_label
from bsgbat_gui.gui.export_panel import ExportPanel

if TYPE_CHECKING:
    from pathlib import Path


def make_night(folder: Path) -> Path:
    folder.mkdir()
    for i in range(2):
        write_wav(folder / f"rec{i}.wav", chirp_train(384_000, 4.0, seed=50 + i), 384_000)
    return folder


def test_export_panel_previews_writes_and_imports(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    folder = make_night(tmp_path / "night")
    window = open_analysed(qtbot, make_window, folder, model_set_dir)
    window.thresholds.set_all(0.2)
    press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_A)  # confirm the first detection
    press(qtbot, window, Qt.Key.Key_R)  # reject the second

    press(qtbot, window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    panel = window.export_panel
    assert isinstance(panel, ExportPanel)
    assert panel.isVisible()
    # Default: verified (confirmed + relabelled) -> one row.
    assert panel.preview is not None
    assert panel.preview.count == 1
    assert panel.preview_model.rowCount() == 1
    assert panel.preview.rows[0][EXPORT_CSV_COLUMNS.index("status")] == "confirmed"
    n_events = window.detections_panel.model.rowCount()
    panel.set_choice(scope="all")
    assert panel.preview.count == n_events
    assert f"{n_events} detections will be written" in panel.count_label.text()

    # The preview follows a threshold change (debounced).
    window.thresholds.set_all(0.9)
    qtbot.waitUntil(lambda: panel.preview is not None and panel.preview.count < n_events)
    window.thresholds.set_all(0.2)
    qtbot.waitUntil(lambda: panel.preview is not None and panel.preview.count == n_events)

    # Every format writes; the CSV equals the headless export of the same store.
    (tmp_path / "out").mkdir()  # the save dialog offers existing folders only
    assert panel.start_folder() == folder  # the survey's folder, not where the app started
    for fmt in EXPORT_FORMATS:
        panel.set_choice(fmt=fmt)
        target = tmp_path / "out" / (fmt if fmt in ("raven", "audacity") else f"{fmt}.csv")
        assert panel.export_to(target), panel.status.text()
        assert target.exists()
    assert panel.start_folder() == tmp_path / "out"  # the last export's folder, remembered
    window.view_state.save()  # the thresholds the command reads from the store
    args = _subcommand_parser().parse_args(
        ["export", str(folder / "bsgbat-review.sqlite"), "--out", str(tmp_path / "cli.csv"),
         "--scope", "all"]
    )  # fmt: skip
    assert args.run(args, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    assert (tmp_path / "out" / "csv.csv").read_text() == (tmp_path / "cli.csv").read_text()

    # Exporting over an existing file asks first (without blocking), and leaves it alone.
    panel.set_choice(fmt="csv")
    before = (tmp_path / "out" / "csv.csv").read_text()
    assert not panel.export_to(tmp_path / "out" / "csv.csv")
    assert panel._dialog is not None
    assert panel._dialog.isVisible()
    panel._dialog.close()
    assert (tmp_path / "out" / "csv.csv").read_text() == before

    # Import: confirm every unreviewed detection in the CSV, then undo it in one step.
    with (tmp_path / "out" / "csv.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["status"] == "unreviewed":
            row["status"] = "confirmed"
    edited = tmp_path / "edited.csv"
    with edited.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, EXPORT_CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    decided_before = len(window.review.decisions)
    assert panel.import_from(edited)
    assert f"{n_events - 2} new" in panel.status.text()
    assert len(window.review.decisions) == n_events
    assert window.detections_panel.model.rowCount() == n_events
    window.review.undo_stack.undo()
    assert len(window.review.decisions) == decided_before
    window.review.undo_stack.redo()
    assert sum(d.status == STATUS_CONFIRMED for d in window.review.decisions) == n_events - 1


def test_summary_tab_and_guano_write_back_off_the_gui_thread(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    folder = make_night(tmp_path / "night")
    window = open_analysed(qtbot, make_window, folder, model_set_dir)
    window.thresholds.set_all(0.2)
    press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_A)
    confirmed = window.review.decisions[0]
    window.show_export_panel()
    panel = window.export_panel
    assert panel is not None
    summary = {r[1]: r for r in panel.summary_model.rows if r[0] == "all"}
    assert summary[confirmed.final_species][3] == "1"  # confirmed column
    assert panel.save_summary(tmp_path / "summary.csv")

    panel.confirm_guano_write()
    assert panel._dialog is not None
    assert panel._dialog.isVisible()
    panel._dialog.close()
    assert b"guan" not in confirmed.path.read_bytes()  # nothing written yet
    updates = guano_updates(select_recordings(panel.recordings, panel.which))
    assert [u.path for u in updates] == [confirmed.path]
    panel.write_guano(updates)
    qtbot.waitUntil(lambda: "GUANO written to 1 file(s), 0 failed" in panel.status.text())
    code = species_for_label(confirmed.final_species).code.upper()
    assert guano.GuanoFile(str(confirmed.path))["Species Manual ID"] == code
