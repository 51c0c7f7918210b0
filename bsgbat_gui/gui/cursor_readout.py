"""The cursor readout: true time, true frequency and level of the spectrogram cell under the mouse.

The spectrogram view says what is under a scene point (:class:`CursorReading`); this label shows
it in the status bar. Mouse moves arrive far faster than anyone reads; the label follows them at
most every :data:`READOUT_INTERVAL_MS` (the last position always shown), so moving the mouse
never queues work on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel
from superqt.utils import qthrottled

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtCore import QPointF, SignalInstance

READOUT_INTERVAL_MS = 40
_WIDEST = "0000.0000 s · 000.0 kHz · −000.0 dB"


@dataclass(frozen=True)
class CursorReading:
    """What is under the mouse: true seconds, true kHz (None off the image: the events strip,
    the tracks) and the cell's value (None where no image is drawn yet)."""

    t_s: float
    freq_khz: float | None = None
    value: float | None = None
    model_input: bool = False  # the value is the network's 0..6 input, not dB


def reading_text(reading: CursorReading) -> str:
    """``0.5321 s · 52.3 kHz · −48.2 dB``: as much as the reading holds."""
    parts = [f"{reading.t_s:.4f} s"]
    if reading.freq_khz is not None:
        parts.append(f"{reading.freq_khz:.1f} kHz")
    if reading.value is not None:
        value = f"input {reading.value:.2f}" if reading.model_input else f"{reading.value:.1f} dB"
        parts.append(value.replace("-", "−"))
    return " · ".join(parts)


class CursorReadout(QLabel):
    """A status-bar label showing :func:`reading_text` of what ``read`` finds under the mouse."""

    def __init__(
        self, read: Callable[[QPointF], CursorReading | None], mouse_moved: SignalInstance
    ) -> None:
        super().__init__("")
        self.setObjectName("cursor_readout")
        self.setToolTip("Under the mouse: true time, true frequency and level")
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance(_WIDEST) + 8)
        self._read = read
        self._show_soon = qthrottled(self.show_reading_at, timeout=READOUT_INTERVAL_MS, parent=self)
        mouse_moved.connect(self._show_soon)

    def clear_reading(self) -> None:
        """The mouse has left the view: nothing under it (a throttled move still due is
        dropped, or it would bring the old reading back)."""
        self._show_soon.cancel()
        self.setText("")

    def show_reading_at(self, scene_pos: QPointF) -> None:
        reading = self._read(scene_pos)
        self.setText("" if reading is None else reading_text(reading))
