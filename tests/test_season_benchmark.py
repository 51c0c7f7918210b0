"""``bsgbat-gui benchmark --season`` runs end to end on a tiny season and reports every key
(the numbers are the benchmark's to report, never a test's to check)."""

from __future__ import annotations

import io
import json
import os
from typing import TYPE_CHECKING

from bsgbat_gui.__main__ import _subcommand_parser
from bsgbat_gui.benchmark.season import build_season, write_sparse_wav
from bsgbat_gui.commands.benchmark import TARGETS

if TYPE_CHECKING:
    from pathlib import Path

SEASON_KEYS = (
    "season_open_first_recording_s", "season_peak_rss_mb", "season_threshold_update_ms",
    "season_filter_ms", "season_sort_ms", "season_next_unreviewed_ms", "season_export_verified_s",
    "season_export_peak_extra_rss_mb", "season_analyze_append_ms_per_file",
    "season_analyze_append_empty_ms_per_file", "season_analyze_append_slowdown",
)  # fmt: skip


def test_season_benchmark_reports_every_key(tmp_path: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out = tmp_path / "season.json"
    args = _subcommand_parser().parse_args(
        ["benchmark", "--season", "--season-recordings", "200", "--json", str(out)]
    )
    stdout, stderr = io.StringIO(), io.StringIO()
    assert args.run(args, stdout=stdout, stderr=stderr) == 0, stderr.getvalue()
    numbers = json.loads(out.read_text(encoding="utf-8"))
    for key in SEASON_KEYS:
        assert isinstance(numbers[key], (int, float)), key
        assert numbers[key] == numbers[key], key  # measured (not NaN)
    assert numbers["season_loaded_recordings"] == numbers["season_recordings"] == 200
    assert numbers["season_events"] > 200
    assert numbers["season_export_rows"] > 0
    for key in SEASON_KEYS:
        if key in TARGETS:
            assert f"{key} " in stdout.getvalue()


def test_the_season_files_are_sparse_and_pass_for_their_stored_analysis(tmp_path: Path) -> None:
    """The window takes every analysis from the store (same size, time and windows), and the
    files take a disk block, not megabytes."""
    from bsgbat_gui.core.audio.recording import probe_recording
    from bsgbat_gui.core.models.locate import read_model_set
    from bsgbat_gui.core.review.analysis_cache import model_set_id
    from bsgbat_gui.core.review.store import ReviewStore

    built = build_season(tmp_path / "season", 20)
    files = sorted(built.survey.rglob("*.wav"))
    assert len(files) == 20
    with ReviewStore.open(built.store, exclusive=False) as store:
        set_id = model_set_id(read_model_set(built.models), store)
        for path in files:
            assert store.cached_analysis(probe_recording(path), set_id) is not None, path
    one = write_sparse_wav(tmp_path / "one.wav", 384_000 * 5)
    assert one.st_size == 44 + 2 * 384_000 * 5
    if hasattr(one, "st_blocks"):  # POSIX: a hole, on file systems that have them
        assert one.st_blocks * 512 < 100_000
