"""``bsgbat-gui render``: the window's spectrogram and tracks in a PNG, without a screen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from audio_factory import chirp_train, write_wav
from PySide6.QtGui import QImage
from real_recordings import real_recording

from bsgbat_gui.__main__ import main
from bsgbat_gui.commands.render import windows_around
from bsgbat_gui.core.segments import segment_windows


def image_of(path: Path) -> np.ndarray:
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    assert not image.isNull()
    ptr = image.constBits()
    return np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)


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
    assert err.count("error:") == 1 and "broken.wav" in err
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
