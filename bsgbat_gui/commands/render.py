"""``bsgbat-gui render``: draw a recording's spectrogram and probability tracks to a PNG, headless.

The figure is drawn by the window's own widgets (:class:`SpectrogramView` with its
:class:`TrackView`), on Qt's offscreen platform, so a report figure or a check without a screen
shows exactly what the window shows.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bsgbat_gui.commands.arguments import non_negative_float, positive_float
from bsgbat_gui.commands.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bsgbat_gui.core.analysis.analyse import (
    RecordingAnalysed,
    RecordingAnalysis,
    analyse_recording,
    windows_for,
)
from bsgbat_gui.core.analysis.detections import detection_events
from bsgbat_gui.core.analysis.thresholds import PresetError, ThresholdSettings, load_preset
from bsgbat_gui.core.audio.recording import (
    ModelRateSignal,
    RecordingError,
    RecordingInfo,
    probe_recording,
)
from bsgbat_gui.core.audio.spectrogram import DisplaySpectrogram, display_spectrogram, frame_count
from bsgbat_gui.core.model_card import FRAME_S
from bsgbat_gui.core.models.ensemble import COMBINE_METHODS, Ensemble
from bsgbat_gui.core.models.locate import ModelSet, ModelSetError, locate_model_set

if TYPE_CHECKING:
    from bsgbat_gui.core.audio.segments import SegmentWindow

MIN_SIZE_PX, MAX_SIZE_PX = 200, 10_000


def pixel_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of pixels") from None
    if not MIN_SIZE_PX <= value <= MAX_SIZE_PX:
        raise argparse.ArgumentTypeError(f"must be between {MIN_SIZE_PX} and {MAX_SIZE_PX}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "render",
        help="draw a recording's spectrogram and probability tracks to a PNG (no screen needed)",
        description="Draw the window's spectrogram and probability tracks for one recording "
        "(or a span of it) to a PNG file, without a screen.",
    )
    p.add_argument("recording", type=Path, metavar="RECORDING", help="the recording to draw")
    p.add_argument("--out", type=Path, required=True, metavar="FIGURE.png", help="PNG to write")
    p.add_argument(
        "--start", type=non_negative_float, default=0.0, metavar="S", help="start (real s)"
    )
    p.add_argument(
        "--end", type=non_negative_float, metavar="S", help="end (real s; default: the end)"
    )
    p.add_argument("--models", type=Path, metavar="DIR", help="model set folder")
    p.add_argument("--width", type=pixel_size, default=1600, metavar="PX", help="default 1600")
    p.add_argument("--height", type=pixel_size, default=900, metavar="PX", help="default 900")
    p.add_argument(
        "--combine",
        choices=COMBINE_METHODS,
        help="model combination (default: the preset's, else mean)",
    )
    p.add_argument(
        "--thresholds",
        type=Path,
        metavar="PRESET.json",
        help="per-species thresholds for the shaded detections (default: 0.5)",
    )
    p.add_argument("--top", type=int, default=5, metavar="N", help="species tracks drawn (5)")
    p.add_argument("--colour-map", default="viridis", metavar="NAME", help="viridis, magma, …")
    p.add_argument(
        "--time-expansion",
        type=positive_float,
        metavar="N",
        help="time-expansion factor (overrides the file's metadata)",
    )
    p.set_defaults(run=run)


def windows_around(
    windows: list[SegmentWindow], start_s: float, end_s: float
) -> list[SegmentWindow]:
    """The windows overlapping [start_s, end_s], plus one either side so the steps at the edges
    of the figure show the right values."""
    overlapping = [i for i, w in enumerate(windows) if w.start_s < end_s and w.end_s > start_s]
    if not overlapping:
        return []
    first, last = max(0, overlapping[0] - 1), min(len(windows) - 1, overlapping[-1] + 1)
    return windows[first : last + 1]


def _analyse_span(
    info: RecordingInfo, model_set: ModelSet, start_s: float, end_s: float
) -> RecordingAnalysis | None:
    ensemble = Ensemble(model_set)
    windows = windows_around(windows_for(info), start_s, end_s)
    for event in analyse_recording(info, ensemble, windows=windows):
        if isinstance(event, RecordingAnalysed):
            return event.analysis
    return None


def _title(info: RecordingInfo, start_s: float, end_s: float, models: str) -> str:
    rate = f"{info.true_rate_hz / 1000:g} kHz"
    if info.is_time_expanded:
        rate += f" (TE ×{info.time_expansion:g})"
    return (
        f"<b>{info.path.name}</b> — {start_s:.3f}–{end_s:.3f} s of {info.duration_s:.3f} s, "
        f"{rate} — {models}"
    )


def _draw(
    args: argparse.Namespace,
    info: RecordingInfo,
    spectrogram: DisplaySpectrogram,
    analysis: RecordingAnalysis | None,
    settings: ThresholdSettings,
    models_text: str,
    end_s: float,
) -> bool:
    """Lay the figure out with the window's widgets and save it; False when saving failed."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

    from bsgbat_gui.gui.event_shading import lanes_for
    from bsgbat_gui.gui.spectrogram_view import SpectrogramView
    from bsgbat_gui.gui.track_view import TrackView

    if QApplication.instance() is None:
        QApplication(sys.argv[:1])  # kept alive by Qt until the process ends
    figure = QWidget()
    figure.setStyleSheet("background: black; color: #dddddd;")
    layout = QVBoxLayout(figure)
    title = QLabel(_title(info, args.start, end_s, models_text))
    layout.addWidget(title)
    view = SpectrogramView()
    tracks = TrackView()
    view.add_track_plot(tracks)
    layout.addWidget(view, 1)
    view.set_colour_map(args.colour_map)
    tracks.top_n = max(1, args.top)
    if analysis is not None:
        tracks.thresholds.set_labels(analysis.labels)
    tracks.thresholds.apply(settings)
    figure.resize(args.width, args.height)
    figure.show()
    # Let Qt lay the widgets out at their final size before drawing the data into them.
    settle = QEventLoop()
    QTimer.singleShot(50, settle.quit)
    settle.exec()
    view.set_spectrogram(
        spectrogram,
        None,
        spectrogram.auto_levels(),
        view_range_s=(args.start, end_s),
        overview=False,
    )
    tracks.set_analysis(analysis)
    if analysis is not None:
        # The same events the window shades (the rule of core.detections).
        events = detection_events(
            analysis.probabilities(settings.combine),
            analysis.windows,
            settings.array_for(analysis.labels),
            analysis.labels,
        )
        view.event_shading.set_events(
            lanes_for(events, analysis.labels, tracks.thresholds.is_visible)
        )
    QTimer.singleShot(100, settle.quit)
    settle.exec()
    image = figure.grab()
    figure.close()
    return bool(image.save(str(args.out), "PNG"))


def run(
    args: argparse.Namespace, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        info = probe_recording(args.recording, time_expansion=args.time_expansion)
    except RecordingError as exc:
        err.write(f"error: {args.recording}: {exc}\n")
        return EXIT_FAILED
    end_s = info.duration_s if args.end is None else min(args.end, info.duration_s)
    if args.start >= end_s:
        err.write(
            f"error: --start {args.start:g} s is not before the end ({end_s:g} s; the recording "
            f"lasts {info.duration_s:.3f} s)\n"
        )
        return EXIT_USAGE
    if not args.out.parent.is_dir():
        err.write(f"error: cannot write {args.out}: folder {args.out.parent} does not exist\n")
        return EXIT_FAILED

    first_frame = int(args.start / FRAME_S)
    stop_frame = min(frame_count(info.model_rate_frames), int(end_s / FRAME_S) + 1)
    try:
        with ModelRateSignal(info) as signal:
            spectrogram = display_spectrogram(
                signal, max_columns=2 * args.width, span_frames=(first_frame, stop_frame)
            )
    except RecordingError as exc:
        err.write(f"error: {args.recording}: {exc}\n")
        return EXIT_FAILED
    assert spectrogram is not None  # no should_stop given

    analysis = None
    settings = ThresholdSettings()
    try:
        model_set = locate_model_set(args.models)
    except ModelSetError as exc:
        err.write(f"warning: no probability tracks: {exc}\n")
        models_text = "no model set: spectrogram only"
    else:
        if args.thresholds is not None:
            try:
                loaded = load_preset(args.thresholds, model_set.labels)
            except PresetError as exc:
                err.write(f"error: {exc}\n")
                return EXIT_USAGE
            for problem in loaded.problems:
                err.write(f"warning: {args.thresholds}: {problem}\n")
            settings = loaded.settings
        models_text = f"models: {model_set.folder}"
        try:
            analysis = _analyse_span(info, model_set, args.start, end_s)
        except ModelSetError as exc:
            err.write(f"warning: no probability tracks: {exc}\n")
            models_text = "model set failed to load: spectrogram only"
        except RecordingError as exc:
            err.write(f"error: {args.recording}: {exc}\n")
            return EXIT_FAILED

    settings = ThresholdSettings(settings.thresholds, args.combine or settings.combine)
    if not _draw(args, info, spectrogram, analysis, settings, models_text, end_s):
        err.write(f"error: cannot write {args.out} (permissions? disk full?)\n")
        return EXIT_FAILED
    for warning in info.warnings:
        err.write(f"warning: {args.recording.name}: {warning}\n")
    out.write(f"wrote {args.out}\n")
    return EXIT_OK
