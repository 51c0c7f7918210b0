"""``bsgbat-gui clip``: save what the window would play — a call time-expanded, heterodyned or
at real speed — as a WAV to share."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bsgbat_gui.commands.arguments import positive_float
from bsgbat_gui.commands.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bsgbat_gui.core.audio.playback import (
    DEFAULT_FACTOR,
    DEFAULT_LO_HZ,
    PLAYBACK_MODES,
    make_playable,
    wav_bytes,
)
from bsgbat_gui.core.audio.recording import RecordingError, probe_recording, read_real_span
from bsgbat_gui.core.files import AtomicBinaryFile

if TYPE_CHECKING:
    import argparse

MAX_CLIP_S = 600.0  # real seconds: 100 min of audio at x10; longer is a mistake, not a clip


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "clip",
        help="save part of a recording as audible sound (time-expanded, heterodyne or real)",
        description="Write the part of RECORDING between --start and --end (real seconds) as a "
        "16-bit WAV: time-expanded (played slower and lower: 45 kHz heard at 4.5 kHz at x10), "
        "heterodyned (real time, pitch |f - f_lo|) or at real speed.",
    )
    p.add_argument("recording", type=Path, metavar="RECORDING")
    p.add_argument("--start", type=float, required=True, metavar="S", help="real seconds")
    p.add_argument("--end", type=float, required=True, metavar="S", help="real seconds")
    p.add_argument("--out", type=Path, required=True, metavar="CLIP.wav")
    p.add_argument("--mode", choices=PLAYBACK_MODES, default="expand", help="default: expand")
    p.add_argument("--factor", type=positive_float, default=DEFAULT_FACTOR,
                   help=f"time-expansion factor (default {DEFAULT_FACTOR})")  # fmt: skip
    p.add_argument("--lo-khz", type=positive_float, default=DEFAULT_LO_HZ / 1000,
                   help=f"heterodyne pitch, kHz (default {DEFAULT_LO_HZ / 1000:g})")  # fmt: skip
    p.add_argument("--band-khz", type=positive_float, nargs=2, metavar=("LOW", "HIGH"),
                   help="keep only this band (real kHz) before expanding or mixing")  # fmt: skip
    p.add_argument("--time-expansion", type=positive_float, metavar="N",
                   help="the recording's time-expansion factor (overrides metadata)")  # fmt: skip
    p.set_defaults(run=run)


def run(
    args: argparse.Namespace, *, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    if not 0 <= args.start < args.end:
        stderr.write("error: --start must be at least 0 and before --end\n")
        return EXIT_USAGE
    if args.end - args.start > MAX_CLIP_S:
        stderr.write(f"error: a clip is at most {MAX_CLIP_S:g} s of recording\n")
        return EXIT_USAGE
    try:
        info = probe_recording(args.recording, time_expansion=args.time_expansion)
        if args.start >= info.duration_s:
            stderr.write(
                f"error: {args.recording}: starts after the recording ends "
                f"({info.duration_s:.3f} s)\n"
            )
            return EXIT_USAGE
        samples = read_real_span(info, args.start, args.end)
    except RecordingError as exc:
        stderr.write(f"error: {args.recording}: {exc}\n")
        return EXIT_FAILED
    low, high = (k * 1000 for k in args.band_khz) if args.band_khz else (None, None)
    playable = make_playable(
        samples, info.true_rate_hz, args.mode, factor=args.factor, lo_hz=args.lo_khz * 1000,
        low_hz=low, high_hz=high,
    )  # fmt: skip
    try:
        with AtomicBinaryFile(args.out) as f:
            f.write(wav_bytes(playable))
    except OSError as exc:
        stderr.write(f"error: cannot write {args.out}: {exc.strerror or exc}\n")
        return EXIT_FAILED
    what = {"expand": f"time-expanded x{args.factor:g}", "heterodyne":
            f"heterodyne at {args.lo_khz:g} kHz", "real": "real speed"}[args.mode]  # fmt: skip
    stdout.write(
        f"wrote {args.out}: {what}, {playable.duration_s:.3f} s at {playable.rate_hz} Hz\n"
    )
    return EXIT_OK
