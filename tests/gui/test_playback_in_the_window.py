"""Playback in the window: Space plays the selected detection time-expanded with a cursor that
follows the sound's clock; with no audio device the window says so once and keeps working."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pytest
from audio_factory import chirp_train, write_wav
from PySide6.QtCore import QObject, Qt
from test_review_in_the_window import make_night, open_analysed, press

from bsgbat_gui.core.audio.playback import DEVICE_RATE_HZ, PlaybackSettings
from bsgbat_gui.core.audio.recording import probe_recording
from bsgbat_gui.core.review.decisions import STATUS_CONFIRMED
from bsgbat_gui.gui.playback import PlaybackController

if TYPE_CHECKING:
    from pathlib import Path


class FakeOutput(QObject):
    """An audio output whose clock runs in real time from start(), like a sound card's."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pcm = b""
        self.rate_hz = 0
        self._started = 0.0
        self.stopped = 0
        self.finished = False

    def start(self, pcm16: bytes, rate_hz: int) -> None:
        self.pcm, self.rate_hz, self._started = pcm16, rate_hz, time.monotonic()

    def stop(self) -> None:
        self.stopped += 1

    def played_s(self) -> float:
        return time.monotonic() - self._started

    def done(self) -> bool:
        return self.finished


def test_space_plays_the_selected_detection_with_a_moving_cursor(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    window = open_analysed(qtbot, make_window, make_night(tmp_path / "night"), model_set_dir)
    fake = FakeOutput()
    window.playback._output_factory = lambda parent: (fake, "")
    window.thresholds.set_all(0.2)
    press(qtbot, window, Qt.Key.Key_Right)  # select (and show) the first detection
    event = window.detections_panel.selected
    assert event is not None
    qtbot.waitUntil(lambda: window.recordings.row_for(event.path).info is not None)

    press(qtbot, window, Qt.Key.Key_Space)
    cursor = window.spectrogram_view.cursors[0]
    qtbot.waitUntil(cursor.isVisible, timeout=10_000)
    # x10 at 48 kHz: each real second is 10 s of 16-bit samples.
    duration = event.end_s - event.start_s
    assert fake.rate_hz == DEVICE_RATE_HZ
    assert len(fake.pcm) == pytest.approx(2 * DEVICE_RATE_HZ * duration * 10, rel=0.01)
    samples = np.frombuffer(fake.pcm, "<i2")
    assert 0 < np.abs(samples).max() <= 32767
    first = cursor.value()
    assert event.start_s <= first <= event.end_s
    qtbot.waitUntil(lambda: cursor.value() > first + 0.005, timeout=5_000)  # it moves...
    # ...at a tenth of real time (x10), and the tracks show the same cursor.
    assert window.spectrogram_view.cursors[1].value() == pytest.approx(cursor.value(), abs=0.01)
    assert "Playing" in window.status_label.text()
    assert "x10" in window.status_label.text()

    press(qtbot, window, Qt.Key.Key_Space)  # stops
    assert not cursor.isVisible()
    assert not window.playback.busy
    assert fake.stopped
    # The end of the sound ends playback too.
    press(qtbot, window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.playback.playing, timeout=10_000)
    fake.finished = True
    qtbot.waitUntil(lambda: not window.playback.busy)
    assert not cursor.isVisible()


def test_no_audio_device_is_said_once_and_nothing_breaks(
    qtbot, make_window, tmp_path: Path, model_set_dir: Path
) -> None:
    window = open_analysed(qtbot, make_window, make_night(tmp_path / "night"), model_set_dir)
    window.playback._output_factory = lambda parent: (None, "this computer has no audio output")
    messages: list[str] = []
    window.playback.message.connect(messages.append)
    window.thresholds.set_all(0.2)
    press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_Space)
    press(qtbot, window, Qt.Key.Key_Space)
    assert len([m for m in messages if "No playback" in m]) == 1
    assert "no audio output" in messages[0]
    assert "clip" in messages[0]
    assert not window.playback.busy
    press(qtbot, window, Qt.Key.Key_A)  # reviewing still works
    assert window.review.decisions[0].status == STATUS_CONFIRMED


def test_the_real_default_output_never_raises(qtbot, tmp_path: Path) -> None:
    """Whatever this machine has (usually no device in CI): play and stop do not raise, and a
    machine without one says why."""
    info = probe_recording(write_wav(tmp_path / "a.wav", chirp_train(384_000, 1.0), 384_000))
    controller = PlaybackController()
    messages: list[str] = []
    controller.message.connect(messages.append)
    started = controller.play(info, 0.0, 0.5, PlaybackSettings())
    if not started:
        assert messages
        assert messages[0].startswith("No playback: ")
    controller.stop()
    controller.shutdown()
