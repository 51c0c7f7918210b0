"""``bsgbat-gui render``: the window's spectrogram and tracks in a PNG, without a screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
from audio_factory import chirp_train, write_wav
from PySide6.QtGui import QImage
from real_recordings import real_recording

from bsgbat_gui.__main__ import main
from bsgbat_gui.commands.render import windows_around
from bsgbat_gui.core.audio.segments import segment_windows

if TYPE_CHECKING:
    from pathlib import Path


def image_of(path: Path) -> np.ndarray:
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    assert not image.isNull()
    pixels = np.frombuffer(image.constBits(), np.uint8)
    # Copied while the QImage is alive: the buffer belongs to it.
    return pixels.reshape(image.height(), image.bytesPerLine() // 4, 4).copy()


@pytest.mark.real_recordings
def test_renders_a_real_recording_with_tracks(
    qapp, tmp_path: Path, model_set_dir: Path, capsys
) -> None:
    source = real_recording("M500-20190704_030003.wav")
    out = tmp_path / "figure.png"
    args = ["render", str(source), "--out", str(out), "--models", str(model_set_dir)]
    assert main([*args, "--width", "1000", "--height", "600"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    pixels = image_of(out)
    assert pixels.shape[:2] == (600, 1000)
    # Calls and curves: a figure with real content has many distinct colours.
    colours = np.unique(pixels[..., :3].reshape(-1, 3), axis=0)
    assert len(colours) > 200


def test_a_span_without_models_still_renders_the_spectrogram(qapp, tmp_path: Path, capsys) -> None:
    source = write_wav(tmp_path / "r.wav", chirp_train(384_000, 6.0), 384_000)
    out = tmp_path / "span.png"
    rc = main(
        ["render", str(source), "--out", str(out), "--start", "2", "--end", "3.5",
         "--models", str(tmp_path / "none")]
    )  # fmt: skip
    assert rc == 0
    captured = capsys.readouterr()
    assert "warning: no probability tracks" in captured.err
    assert image_of(out).shape[:2] == (900, 1600)


def test_bad_inputs_get_one_clear_message(qapp, tmp_path: Path, capsys) -> None:
    source = write_wav(tmp_path / "r.wav", chirp_train(384_000, 2.0), 384_000)
    out = tmp_path / "x.png"
    assert main(["render", str(source), "--out", str(out), "--start", "5"]) == 2
    assert "is not before the end" in capsys.readouterr().err
    broken = tmp_path / "broken.wav"
    broken.write_text("not audio")
    assert main(["render", str(broken), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1
    assert "broken.wav" in err
    assert main(["render", str(source), "--out", str(tmp_path / "missing" / "x.png")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(SystemExit):
        main(["render", str(source), "--out", str(out), "--width", "5"])


def test_windows_around_a_span_include_one_neighbour_each_side() -> None:
    windows = segment_windows(5000, duration_s=10.0)  # 0.5 s hop
    chosen = windows_around(windows, 3.0, 4.0)
    assert chosen[0].end_s <= 3.0 < chosen[1].end_s
    assert chosen[-1].start_s >= 4.0 > chosen[-2].start_s
    assert windows_around(windows, 20.0, 21.0) == []


@pytest.mark.real_recordings
def test_thresholds_shade_the_detections_in_the_figure(
    qapp, tmp_path: Path, model_set_dir: Path
) -> None:
    """Every species detected everywhere (threshold 0) puts a bar per species along the top of
    the spectrogram, where a figure without detections shows the spectrogram's own colours."""
    import json

    source = real_recording("M500-20190704_030003.wav")
    labels = (model_set_dir / "bsgbat_labels.txt").read_text(encoding="utf-8").splitlines()
    preset = tmp_path / "zero.json"
    preset.write_text(json.dumps({"thresholds": dict.fromkeys(labels, 0.0)}), encoding="utf-8")
    size = ["--width", "800", "--height", "600"]
    shaded, plain = tmp_path / "shaded.png", tmp_path / "plain.png"
    base = ["render", str(source), *size]
    models = ["--models", str(model_set_dir)]
    assert main([*base, *models, "--thresholds", str(preset), "--out", str(shaded)]) == 0
    assert main([*base, "--models", str(tmp_path / "none"), "--out", str(plain)]) == 0
    top_band = (slice(42, 90), slice(100, 640))  # the top of the spectrogram plot
    with_bars, without = image_of(shaded)[top_band][..., :3], image_of(plain)[top_band][..., :3]
    rows_with_bars = {tuple(row) for row in with_bars[:, 270]}
    assert len(rows_with_bars) >= 15  # one colour per species lane
    assert np.mean(np.abs(with_bars.astype(int) - without.astype(int))) > 20
