"""``bsgbat-gui --self-test``: the smoke test of an installation or a frozen build.

Opens the main window offscreen on a copy of the built-in demo recording, waits until its
spectrogram is drawn (read by libsndfile and computed in the app's spectrogram process, so the
child-process start of a frozen build is exercised too), checks the picture is not blank, runs a
tiny model through ONNX Runtime, closes and exits 0 — or prints what failed and exits 1. Nothing
is written outside a temporary folder (settings, review store and the demo copy all live there).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

TIMEOUT_S = 120.0


def _wait_for(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop until ``condition()`` holds (checked every 20 ms) or the timeout."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(
        lambda: loop.quit() if condition() or time.monotonic() > deadline else None
    )
    timer.start()
    loop.exec()
    timer.stop()
    return condition()


def check_onnxruntime() -> str:
    """Build a one-node model in memory and run it: ONNX Runtime and its native library work."""
    import numpy as np
    import onnxruntime
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Sigmoid", ["x"], ["y"])],
        "self_test",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 22])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 22])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    session = onnxruntime.InferenceSession(
        model.SerializeToString(),
        providers=["CPUExecutionProvider"],
    )
    (y,) = session.run(None, {"x": np.zeros((1, 22), np.float32)})
    if not np.allclose(y, 0.5):
        raise RuntimeError(f"ONNX Runtime gave {y[0, 0]} for sigmoid(0)")
    return onnxruntime.__version__


def run_self_test(models_dir: Path | None = None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings

    from bsgbat_gui.core.resources import copy_demo_to
    from bsgbat_gui.gui.app import make_application

    started = time.monotonic()
    app = make_application()
    from bsgbat_gui.gui.main_window import MainWindow
    from bsgbat_gui.gui.settings import AppSettings

    with tempfile.TemporaryDirectory(prefix="bsgbat-self-test-") as tmp:
        folder = Path(tmp)
        try:
            demo = copy_demo_to(folder / "demo")
        except OSError as exc:
            return _fail(f"the demo recording is missing or unreadable: {exc}")
        settings = AppSettings(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
        window = MainWindow(
            paths=[demo], models_dir=models_dir or folder / "no-models", settings=settings
        )
        window.resize(1200, 800)
        window.show()
        try:
            view = window.spectrogram_view
            shown = _wait_for(lambda: view.spectrogram is not None, TIMEOUT_S)
            if not shown:
                return _fail(f"no spectrogram after {TIMEOUT_S:.0f} s: {view.message_text()!r}")
            picture = view.grab().toImage()
            colours = {
                picture.pixel(x, y)
                for x in range(0, picture.width(), 7)
                for y in range(0, picture.height(), 7)
            }
            if len(colours) < 50:
                return _fail(f"the spectrogram looks blank ({len(colours)} colours)")
            ort_version = check_onnxruntime()
        except Exception as exc:  # noqa: BLE001 - a broken build: say what broke, exit 1
            return _fail(f"{type(exc).__name__}: {exc}")
        finally:
            window.close()
    spectrogram = view.spectrogram
    assert spectrogram is not None
    sys.stdout.write(
        "bsgbat-gui self-test passed: demo spectrogram "
        f"{spectrogram.db.shape[0]} × {spectrogram.db.shape[1]} drawn "
        f"({len(colours)} colours), ONNX Runtime {ort_version}, "
        f"{time.monotonic() - started:.1f} s\n"
    )
    del app
    return 0


def _fail(message: str) -> int:
    sys.stderr.write(f"bsgbat-gui self-test FAILED: {message}\n")
    return 1
