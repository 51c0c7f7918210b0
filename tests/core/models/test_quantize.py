"""models quantize: an INT8 copy is installed only when it matches FP32 within the tolerance,
says it is INT8 in its identity, and a refused copy leaves nothing behind."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

from bsgbat_gui.__main__ import _subcommand_parser
from bsgbat_gui.core.models.locate import QUANTIZED_MARKER, is_quantized, read_model_set
from bsgbat_gui.core.review.analysis_cache import model_set_id
from bsgbat_gui.core.review.survey import short_model_set

if TYPE_CHECKING:
    from pathlib import Path


def run(argv: list[str]) -> tuple[int, str]:
    args = _subcommand_parser().parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    return args.run(args, stdout=out, stderr=err), out.getvalue() + err.getvalue()


def test_a_validated_int8_copy_is_installed_and_marked(
    model_set_dir: Path, recordings_dir: Path, tmp_path: Path
) -> None:
    """The band-energy test models quantise to max |dp| ~0.05 (beyond the default 0.01, see the
    next test), so this one states a looser tolerance: it checks the mechanics."""
    dest = tmp_path / "int8"
    rc, text = run(["models", "quantize", "--models", str(model_set_dir), "--dest", str(dest),
                    "--recordings", str(recordings_dir), "--max-diff", "0.1"])  # fmt: skip
    assert rc == 0, text
    assert "INT8 model set installed" in text
    assert "agree" in text
    marker = json.loads((dest / QUANTIZED_MARKER).read_text())
    assert marker["validation"]["max_abs_diff"] <= 0.1
    assert marker["validation"]["max_abs_diff_allowed"] == 0.1
    assert marker["validation"]["n_inputs"] > 64  # recording windows + random ones
    int8 = read_model_set(dest)
    assert is_quantized(dest)
    assert len(int8.model_paths) == 6
    identity = model_set_id(int8)
    assert identity.endswith("-int8")
    assert short_model_set(identity).endswith("-int8")
    assert not model_set_id(read_model_set(model_set_dir)).endswith("-int8")
    # The INT8 set analyses like any model set.
    rc, text = run(["analyze", str(next(recordings_dir.glob("M500*.wav"))), "--models", str(dest)])
    assert rc == 0, text


def test_a_copy_beyond_the_tolerance_is_refused_and_nothing_installed(
    model_set_dir: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "int8"
    rc, text = run(["models", "quantize", "--models", str(model_set_dir), "--dest", str(dest)])
    assert rc == 1
    assert "refused, nothing installed" in text
    assert "allowed 0.01" in text
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []  # the build folder is gone too
