"""Block-wise resampling that reproduces the card's whole-file resampling exactly.

The card loads audio with ``librosa.load(sr=384000, res_type="kaiser_fast")``, which resamples the
whole file with resampy and pads the result to ``ceil(n * ratio)`` samples. A 60-minute file does
not fit in memory that way, so we compute any output range ``[start, stop)`` on its own.

resampy computes output sample ``t`` from the input around time ``t * (sr_in / sr_out)`` with a
finite filter. Given the *same* output times, shifted by an integer input offset (an exact float
operation), and input margins wider than the filter, its compiled loop produces the same numbers,
in the same order, as the whole-file call. ``tests/core/test_resample.py`` checks that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class _Filter:
    interp_win: npt.NDArray[np.float64]
    interp_delta: npt.NDArray[np.float64]
    precision: int
    scale: float
    half_width_in: int  # input samples one wing of the filter reaches


@lru_cache(maxsize=16)
def _filter_for(filter_name: str, input_rate_hz: int, output_rate_hz: int) -> _Filter:
    from resampy.filters import get_filter

    interp_win, precision, _ = get_filter(filter_name)
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
    # resampy's numba kernel itself (compiled with nogil=True), not its gufunc wrapper, which
    # holds the GIL: a GUI thread must keep running while a worker resamples.
    from resampy.interpn import _resample_loop_s

    filt = _filter_for(filter_name, input_rate_hz, output_rate_hz)
    sample_ratio = float(output_rate_hz) / input_rate_hz
    time_increment = 1.0 / sample_ratio
    out = np.zeros(max(0, out_stop - out_start), dtype=np.float32)
    valid_stop = min(out_stop, _resampy_length(n_input, input_rate_hz, output_rate_hz))
    if valid_stop <= out_start:
        return out
    # Same float64 times as resampy's np.arange(n_out) * time_increment, then an exact shift.
    t_out = np.arange(out_start, valid_stop) * time_increment - float(input_offset)
    y = np.zeros(valid_stop - out_start, dtype=np.float32)
    x = np.ascontiguousarray(input_block, dtype=np.float32)
    _resample_loop_s(x, t_out, filt.interp_win, filt.interp_delta, filt.precision, filt.scale, y)
    out[: len(y)] = y
    return out
