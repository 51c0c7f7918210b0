"""Playing calls: time-expanded or heterodyned sound through Qt Multimedia, with a cursor.

The sound is prepared off the GUI thread (:class:`~bsgbat_gui.gui.worker.PlaybackPreparer`,
signal processing in :mod:`bsgbat_gui.core.audio.playback`), then handed whole to a ``QAudioSink``,
which plays it from a buffer without the GUI's help. The cursor is the sink's own clock
(``processedUSecs``) converted to recording time, read by a timer: it follows what is heard.

Where no audio output exists (a server, CI, a missing PulseAudio) the window says so once and
everything else keeps working; ``bsgbat-gui clip`` saves the same sound as a WAV.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QToolButton,
    QWidget,
)

from bsgbat_gui.core.audio.playback import (
    DEFAULT_LO_HZ,
    DEVICE_RATE_HZ,
    Playable,
    PlaybackSettings,
    to_pcm16,
)
from bsgbat_gui.core.model_card import FMAX_HZ, FMIN_HZ
from bsgbat_gui.gui.worker import PlaybackPreparer

if TYPE_CHECKING:  # Qt Multimedia is imported when first used: it may be missing at run time
    from collections.abc import Callable

    from PySide6.QtGui import QAction
    from PySide6.QtMultimedia import QAudioDevice, QAudioSink

    from bsgbat_gui.core.audio.recording import RecordingInfo

log = logging.getLogger(__name__)

CURSOR_INTERVAL_MS = 30


class AudioOutput(Protocol):
    """What the controller needs from a sound output (a QAudioSink, or a test's fake)."""

    def start(self, pcm16: bytes, rate_hz: int) -> None: ...
    def stop(self) -> None: ...
    def played_s(self) -> float: ...
    def done(self) -> bool: ...  # the whole buffer was played (or the device gave up)


class QtAudioOutput(QObject):
    """16-bit mono PCM from memory through the default audio device.

    The sink's state is polled (:meth:`done`) rather than connected: PySide6 cannot convert
    some ``QAudio::State`` values in ``stateChanged`` ("cannot be converted" TypeErrors).
    """

    def __init__(self, device: QAudioDevice, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._device = device
        self._sink: QAudioSink | None = None
        self._buffer: QBuffer | None = None

    def start(self, pcm16: bytes, rate_hz: int) -> None:
        from PySide6.QtMultimedia import QAudioFormat, QAudioSink

        self.stop()
        fmt = QAudioFormat()
        fmt.setSampleRate(rate_hz)
        fmt.setChannelCount(1)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        sink = QAudioSink(self._device, fmt, self)
        buffer = QBuffer(self)
        buffer.setData(QByteArray(pcm16))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)

        self._sink, self._buffer = sink, buffer
        sink.start(buffer)

    def done(self) -> bool:
        sink = self._sink
        if sink is None:
            return True
        if getattr(sink.state(), "name", "") not in ("IdleState", "StoppedState"):
            return False
        # Compared by name: PySide6 6.7+ enums from QtAudio and QAudio do not compare equal.
        error = getattr(sink.error(), "name", "NoError")
        if error != "NoError":
            log.warning("audio output error: %s", error)
        return True

    def stop(self) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.stop()
            sink.deleteLater()
        if self._buffer is not None:
            self._buffer.close()
            self._buffer = None

    def played_s(self) -> float:
        return 0.0 if self._sink is None else self._sink.processedUSecs() / 1e6


def open_audio_output(parent: QObject) -> tuple[AudioOutput | None, str]:
    """The default audio output, or None and why there is none."""
    try:
        from PySide6.QtMultimedia import QAudioFormat, QMediaDevices
    except ImportError as exc:  # Qt Multimedia or a library it needs is missing
        return None, f"Qt Multimedia is unavailable ({exc})"
    device = QMediaDevices.defaultAudioOutput()
    if device.isNull():
        return None, "this computer has no audio output"
    fmt = QAudioFormat()
    fmt.setSampleRate(DEVICE_RATE_HZ)
    fmt.setChannelCount(1)
    fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
    if not device.isFormatSupported(fmt):
        return None, f"{device.description()} cannot play 48 kHz 16-bit sound"
    return QtAudioOutput(device, parent), ""


class PlaybackController(QObject):
    """Play / stop a span of a recording; the cursor follows what is heard.

    Signals
    -------
    cursor_moved(object)
        Recording time (real seconds) being heard, or None when playback ends.
    playing_changed(bool)
    message(str)
        Status-bar text (what is playing, or why nothing can be).
    """

    cursor_moved = Signal(object)
    playing_changed = Signal(bool)
    message = Signal(str)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        output_factory: Callable[[QObject], tuple[AudioOutput | None, str]] = open_audio_output,
    ) -> None:
        super().__init__(parent)
        self._output_factory = output_factory
        self._output: AudioOutput | None = None
        self._unavailable = ""  # why there is no output (said once)
        self._said_unavailable = False
        self.preparer = PlaybackPreparer(self)
        self.preparer.ready.connect(self._prepared)
        self.preparer.failed.connect(self._failed)
        self._timer = QTimer(self)
        self._timer.setInterval(CURSOR_INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        self._start_s = 0.0
        self._end_s = 0.0
        self._speed = 1.0
        self._what = ""
        self.preparing = False
        self.playing = False

    @property
    def busy(self) -> bool:
        return self.preparing or self.playing

    def play(
        self, info: RecordingInfo | None, start_s: float, end_s: float, settings: PlaybackSettings
    ) -> bool:
        self.stop()
        if info is None:
            self.message.emit("Nothing to play: the recording has not been read yet")
            return False
        if not self._ensure_output():
            return False
        start_s = max(0.0, start_s)
        end_s = min(end_s, info.duration_s)
        if end_s <= start_s:
            self.message.emit("Nothing to play in this range")
            return False
        self._start_s, self._end_s = start_s, end_s
        self._what = f"{info.path.name} {start_s:.2f}–{end_s:.2f} s, {settings.describe()}"
        self.preparing = True
        self.playing_changed.emit(True)
        self.preparer.request(info, start_s, end_s, settings)
        return True

    def stop(self) -> None:
        was_busy = self.busy
        self.preparer.cancel()
        self._timer.stop()
        if self._output is not None:
            self._output.stop()
        self.preparing = self.playing = False
        if was_busy:
            self.cursor_moved.emit(None)
            self.playing_changed.emit(False)

    def _ensure_output(self) -> bool:
        if self._output is None and not self._unavailable:
            self._output, self._unavailable = self._output_factory(self)
        if self._output is None:
            if not self._said_unavailable:
                self._said_unavailable = True
                self.message.emit(
                    f"No playback: {self._unavailable}. Everything else works; "
                    "'bsgbat-gui clip' saves the sound as a WAV file."
                )
            return False
        return True

    def _prepared(self, playable: Playable) -> None:
        if not self.preparing or self._output is None:
            return
        self.preparing = False
        self.playing = True
        self._speed = playable.speed
        self._output.start(to_pcm16(playable.samples), playable.rate_hz)
        self._timer.start()
        self.cursor_moved.emit(self._start_s)
        self.message.emit(f"Playing {self._what} ({playable.duration_s:.1f} s) — Space stops")

    def _failed(self, reason: str) -> None:
        self.stop()
        self.message.emit(f"Cannot play: {reason}")

    def _tick(self) -> None:
        if not self.playing or self._output is None:
            return
        if self._output.done():
            self.stop()
            self.message.emit(f"Played {self._what}")
            return
        t = self._start_s + self._output.played_s() * self._speed
        self.cursor_moved.emit(min(t, self._end_s))

    def shutdown(self) -> None:
        self.stop()
        self.preparer.shutdown()


PLAYBACK_CHOICES = (
    ("Time expansion ×10", "expand", 10.0),
    ("Time expansion ×20", "expand", 20.0),
    ("Time expansion ×5", "expand", 5.0),
    ("Heterodyne", "heterodyne", 10.0),
    ("Real speed (ultrasound)", "real", 1.0),
)


class PlaybackBar(QWidget):
    """The toolbar's playback controls: play/stop, how to make the calls audible, the
    heterodyne frequency, and the band limit."""

    def __init__(self, play_action: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = QToolButton(self)
        self.play_button.setDefaultAction(play_action)
        self.mode_box = QComboBox(self)
        for text, mode, factor in PLAYBACK_CHOICES:
            self.mode_box.addItem(text, (mode, factor))
        self.mode_box.setToolTip(
            "Time expansion: slower and lower, as a time-expansion detector (45 kHz heard at "
            "4.5 kHz at ×10). Heterodyne: real time, pitch = |call − oscillator|."
        )
        self.lo_box = QDoubleSpinBox(self)
        self.lo_box.setRange(10.0, 150.0)
        self.lo_box.setDecimals(1)
        self.lo_box.setSingleStep(1.0)
        self.lo_box.setSuffix(" kHz")
        self.lo_box.setValue(DEFAULT_LO_HZ / 1000)
        self.lo_box.setToolTip("Heterodyne oscillator: calls near it are heard, others are not")
        self.band_box = QCheckBox("9–150 kHz only", self)
        self.band_box.setChecked(True)
        self.band_box.setToolTip("Play only the band the spectrogram shows (cuts wind, hum)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.play_button, self.mode_box, self.lo_box, self.band_box):
            layout.addWidget(widget)
        self.mode_box.currentIndexChanged.connect(self._mode_changed)
        self._mode_changed()

    def _mode_changed(self, *_: object) -> None:
        self.lo_box.setEnabled(self.settings().mode == "heterodyne")

    def settings(self) -> PlaybackSettings:
        mode, factor = self.mode_box.currentData()
        band = self.band_box.isChecked()
        return PlaybackSettings(
            mode=mode,
            factor=factor,
            lo_hz=self.lo_box.value() * 1000,
            low_hz=FMIN_HZ if band else None,
            high_hz=FMAX_HZ if band else None,
        )
