"""`bsgbat-gui benchmark` runs end to end and writes its numbers (their values are not asserted:
performance is reported by the command, never checked by a timed test)."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

from bsgbat_gui.__main__ import _subcommand_parser

if TYPE_CHECKING:
    from pathlib import Path


def test_benchmark_writes_the_latency_numbers(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    args = _subcommand_parser().parse_args(
        ["benchmark", "--latency-repeats", "2", "--json", str(out)]
    )
    stdout, stderr = io.StringIO(), io.StringIO()
    assert args.run(args, stdout=stdout, stderr=stderr) == 0, stderr.getvalue()
    numbers = json.loads(out.read_text(encoding="utf-8"))
    for key in ("threshold_update_ms", "combine_update_ms"):
        assert isinstance(numbers[key], float)
        assert numbers[key] > 0
    assert numbers["latency_segments"] == 7199  # 60 minutes at the card's 0.5 s hop, plus tail
    assert numbers["latency_events"] > 1000
    assert "threshold_update_ms" in stdout.getvalue()


def test_benchmark_with_models_writes_every_number(tmp_path: Path, model_set_dir: Path) -> None:
    """The full command on the small test models and a short long recording."""
    out = tmp_path / "bench.json"
    args = _subcommand_parser().parse_args(
        ["benchmark", "--models", str(model_set_dir), "--long-minutes", "0.2", "--files", "3",
         "--repeats", "1", "--latency-repeats", "2", "--json", str(out)]
    )  # fmt: skip
    stdout, stderr = io.StringIO(), io.StringIO()
    assert args.run(args, stdout=stdout, stderr=stderr) == 0, stderr.getvalue()
    numbers = json.loads(out.read_text(encoding="utf-8"))
    for key in (
        "segments_per_s", "reference_segments_per_s", "throughput_ratio", "ort_time_fraction",
        "peak_rss_mb_long", "reference_peak_rss_mb_long", "first_spectrogram_ms",
        "first_track_ms", "threshold_update_ms", "max_gui_stall_ms", "int8_segments_per_s",
        "int8_speedup",
    ):  # fmt: skip
        assert isinstance(numbers[key], (int, float)), key
        assert numbers[key] > 0, key
    assert 0 <= numbers["max_abs_diff"] < 1e-3  # the same pipeline as the card's code
    assert 0 < numbers["ort_time_fraction"] <= 1
    assert numbers["int8_max_abs_diff"] >= 0


def test_benchmark_json_folder_must_exist(tmp_path: Path) -> None:
    args = _subcommand_parser().parse_args(
        ["benchmark", "--json", str(tmp_path / "missing" / "b.json")]
    )
    stderr = io.StringIO()
    assert args.run(args, stdout=io.StringIO(), stderr=stderr) == 1
    assert "does not exist" in stderr.getvalue()
