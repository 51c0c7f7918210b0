"""Block-wise resampling that reproduces the card's whole-file resampling exactly.

The card loads audio with ``librosa.load(sr=384000, res_type="kaiser_fast")``, which resamples the
whole file with resampy and pads the result to ``ceil(n * ratio)`` samples. A 60-minute file does
not fit in memory that way, so we compute any output range ``[start, stop)`` on its own.

resampy computes output sample ``t`` from the input around time ``t * (sr_in / sr_out)`` with a
finite filter. Given the *same* output times, shifted by an integer input offset (an exact float
operation), and input margins wider than the filter, its loop produces the same numbers, in the
same order, as the whole-file call (``tests/core/audio/test_resample_and_spectrogram.py`` checks
that).

The loop runs as :func:`bsgbat_gui.core.audio.dsp.resample_loop` (numpy, bit-identical to resampy's)
unless :func:`use_compiled_kernel` switched to resampy's numba kernel: several times faster, but
compiled anew in every process (~0.4 s), so only the background analysis process, which warms
up before it is needed, takes it. What the user is waiting for never waits for a compiler.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.audio import dsp

if TYPE_CHECKING:
    from collections.abc import Callable

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class _Filter:
    interp_win: npt.NDArray[np.float64]
    interp_delta: npt.NDArray[np.float64]
    precision: int
    scale: float
    half_width_in: int  # input samples one wing of the filter reaches


_compiled_kernel: Callable[..., None] | None = None


def use_compiled_kernel() -> bool:
    """From now on, resample with resampy's numba kernel (compiled here, now). False when it
    cannot be (numba missing): the numpy loop stays.
    """
    global _compiled_kernel
    try:
        from resampy.interpn import _resample_loop_s
    except ImportError:
        return False
    x = np.zeros(64, np.float32)
    y = np.zeros(8, np.float32)
    win, precision = dsp.resampy_filter("kaiser_fast")
    _resample_loop_s(x, np.arange(8.0), win, np.diff(win, append=win[-1]), precision, 1.0, y)
    _compiled_kernel = _resample_loop_s
    return True


@lru_cache(maxsize=16)
def _filter_for(filter_name: str, input_rate_hz: int, output_rate_hz: int) -> _Filter:
    interp_win, precision = dsp.resampy_filter(filter_name)
    sample_ratio = float(output_rate_hz) / input_rate_hz
    if sample_ratio < 1:
        interp_win = sample_ratio * interp_win
    interp_delta = np.diff(interp_win, append=interp_win[-1])
    scale = min(1.0, sample_ratio)
    index_step = int(scale * precision)
    half_width_in = len(interp_win) // max(index_step, 1) + 2
    return _Filter(interp_win, interp_delta, precision, scale, half_width_in)


def resampled_length(n_input: int, *, input_rate_hz: int, output_rate_hz: int) -> int:
    """Length librosa gives a resampled signal: ``ceil(n * ratio)`` (it zero-pads resampy's)."""
    if input_rate_hz == output_rate_hz:
        return n_input
    return math.ceil(n_input * (float(output_rate_hz) / input_rate_hz))


def _resampy_length(n_input: int, input_rate_hz: int, output_rate_hz: int) -> int:
    # resampy's own length (before librosa pads it): int(n * sr_new / sr_orig)
    return int(n_input * float(output_rate_hz) / float(input_rate_hz))


def input_span_for_output(
    out_start: int,
    out_stop: int,
    *,
    n_input: int,
    input_rate_hz: int,
    output_rate_hz: int,
    filter_name: str,
) -> tuple[int, int]:
    """Input sample range ``[start, stop)`` needed to compute outputs ``[out_start, out_stop)``."""
    filt = _filter_for(filter_name, input_rate_hz, output_rate_hz)
    time_increment = 1.0 / (float(output_rate_hz) / input_rate_hz)
    first = int(out_start * time_increment)
    last = int(max(out_stop - 1, out_start) * time_increment)
    start = max(0, first - filt.half_width_in)
    stop = min(n_input, last + filt.half_width_in + 2)
    return start, max(start, stop)


def resample_span(
    input_block: FloatArray,
    *,
    input_offset: int,
    out_start: int,
    out_stop: int,
    n_input: int,
    input_rate_hz: int,
    output_rate_hz: int,
    filter_name: str,
) -> FloatArray:
    """Output samples ``[out_start, out_stop)`` of resampling the whole signal.

    Parameters
    ----------
    input_block
        Input samples ``[input_offset, input_offset + len)``, float32, 1-D; must cover
        :func:`input_span_for_output` for the requested outputs.
    n_input
        Length of the whole input signal (outputs past resampy's length are zeros, as librosa
        pads them).
    """
    filt = _filter_for(filter_name, input_rate_hz, output_rate_hz)
    sample_ratio = float(output_rate_hz) / input_rate_hz
    time_increment = 1.0 / sample_ratio
    out = np.zeros(max(0, out_stop - out_start), dtype=np.float32)
    valid_stop = min(out_stop, _resampy_length(n_input, input_rate_hz, output_rate_hz))
    if valid_stop <= out_start:
        return out
    # Same float64 times as resampy's np.arange(n_out) * time_increment, then an exact shift.
    t_out = np.asarray(
        np.arange(out_start, valid_stop) * time_increment - float(input_offset), np.float64
    )
    x = np.ascontiguousarray(input_block, dtype=np.float32)
    if _compiled_kernel is not None:
        # resampy's kernel itself (compiled with nogil=True), not its gufunc wrapper, which
        # holds the GIL: a GUI thread must keep running while a worker resamples.
        y = np.zeros(valid_stop - out_start, dtype=np.float32)
        _compiled_kernel(x, t_out, filt.interp_win, filt.interp_delta, filt.precision,
                         filt.scale, y)  # fmt: skip
    else:
        y = dsp.resample_loop(
            x, t_out, filt.interp_win, filt.interp_delta, filt.precision, filt.scale
        )
    out[: len(y)] = y
    return out
