"""The model's windows over a recording, and the card's per-segment normalisation.

The card's grid puts a 512-frame window every 250 frames from frame 0. Two additions, both
flagged so they can be told apart from the card's own segments:

* ``tail``: when the grid stops short of the last frame (up to ~0.5 s of every recording would go
  unanalysed), one more window aligned to the end of the recording.
* ``padded``: a recording shorter than one window (0.5 s triggered clips) gets one window whose
  missing frames are zero mel power, i.e. silence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.model_card import (
    CLIP_MAX,
    FRAME_S,
    LOG_OFFSET,
    SEGMENT_FRAMES,
    SEGMENT_HOP_FRAMES,
)

FloatArray = npt.NDArray[np.float32]

FLAG_NONE = ""
FLAG_TAIL = "tail"
FLAG_PADDED = "padded"


@dataclass(frozen=True)
class SegmentWindow:
    """One model window: its first frame, its flag, and its span in real seconds."""

    index: int
    start_frame: int
    flag: str
    start_s: float
    end_s: float


def segment_windows(n_frames: int, *, duration_s: float) -> list[SegmentWindow]:
    """The windows the model sees for a recording with ``n_frames`` spectrogram frames.

    Window ``i`` of the grid starts at ``i * 0.5`` s and spans 1.024 s; the tail window comes
    last. ``end_s`` is clipped to the recording's real duration, so no window claims time after
    the recording ends.
    """
    if n_frames < SEGMENT_FRAMES:
        return [SegmentWindow(0, 0, FLAG_PADDED, 0.0, min(SEGMENT_FRAMES * FRAME_S, duration_s))]
    starts = list(range(0, n_frames - SEGMENT_FRAMES + 1, SEGMENT_HOP_FRAMES))
    flags = [FLAG_NONE] * len(starts)
    if starts[-1] + SEGMENT_FRAMES < n_frames:
        starts.append(n_frames - SEGMENT_FRAMES)
        flags.append(FLAG_TAIL)
    return [
        SegmentWindow(
            index=i,
            start_frame=start,
            flag=flag,
            start_s=start * FRAME_S,
            end_s=min((start + SEGMENT_FRAMES) * FRAME_S, duration_s),
        )
        for i, (start, flag) in enumerate(zip(starts, flags, strict=True))
    ]


def normalise_segment(log_mel: FloatArray) -> FloatArray:
    """The card's per-segment normalisation of one [512, 128] log-mel window.

    ``(x - mean) / std``, minus each mel bin's median over time, clipped to 0..6, float32 — the
    same operations in the same order as the card. A window of constant value (digital silence)
    has ``std == 0``; the card would produce NaN there, we return zeros (nothing stands out).
    """
    seg: FloatArray = log_mel
    std = seg.std()
    if not np.isfinite(std) or std == 0:
        return np.zeros_like(seg, dtype=np.float32)
    seg = (seg - seg.mean()) / std
    seg = np.clip(seg - np.median(seg, axis=0), 0.0, CLIP_MAX)
    return seg.astype(np.float32)


def model_input_image(log_mel: FloatArray, windows: list[SegmentWindow]) -> FloatArray:
    """The normalised 0..6 input the network sees, laid out over time for display, [frames, 128].

    Windows overlap, so each frame is shown as normalised within the *latest* window that starts
    at or before it (the first 250 frames of every grid window, then the last window whole).
    ``log_mel`` holds the recording's ``log10(S + 1e-6)`` frames.
    """
    n_frames = log_mel.shape[0]
    out = np.zeros_like(log_mel, dtype=np.float32)
    for window in windows:
        seg = log_mel[window.start_frame : window.start_frame + SEGMENT_FRAMES]
        if len(seg) < SEGMENT_FRAMES:  # padded: silence after the end
            seg = np.concatenate(
                [
                    seg,
                    np.full(
                        (SEGMENT_FRAMES - len(seg), seg.shape[1]), np.log10(LOG_OFFSET), np.float32
                    ),
                ]
            )
        normalised = normalise_segment(seg)
        stop = min(window.start_frame + SEGMENT_FRAMES, n_frames)
        out[window.start_frame : stop] = normalised[: stop - window.start_frame]
    return out
