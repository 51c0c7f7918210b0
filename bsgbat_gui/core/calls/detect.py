"""Finding calls in a recording, block by block, at its true rate (time expansion undone).

A call is a connected region of the linear spectrogram (Hann window ``window_ms``, hop
``hop_ms``) in the analysis band: seeded by a cell ``threshold_db`` or more above its
frequency's noise floor, grown over the connected cells ``extend_db`` or more above it (cells
up to ``bridge_ms`` apart in time count as connected), lasting ``min_duration_ms`` or more.
Harmonics and echoes separated from the call by quieter cells are calls of their own, as in
Tadarida-D (whose detection is built the same way: a seed and a stop threshold above a
per-frequency percentile, a neighbourhood wider in time than in frequency).

How it stays fast and small on an hour-long file:

* the recording is read in blocks of ``noise_block_s`` (plus margins), never whole;
* every frame sits on one grid for the whole recording (frame ``j`` centred on sample
  ``j × hop``), so a call measures the same whichever block finds it;
* a *coarse* pass (every ``coarse_step``-th frame, about half a window apart) gives each block's
  noise floor per frequency and the stretches where anything rises near the threshold; the fine
  STFT is computed there only (bats are silent most of a night);
* a call is kept by the block its start falls in; one starting in the margin both blocks see is
  kept once (the earlier block's, where the two overlap in time and frequency).

Digital zero (blanked gaps, padding) is left out of the floor: a percentile over silence would
be −∞ dB and make every sound a call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.audio.recording import ModelRateSignal
from bsgbat_gui.core.calls.parameters import (
    PEAK_LEVEL_COLUMN,
    CallTable,
    RegionMeasure,
    measure_region,
    peak_cell,
)
from bsgbat_gui.core.calls.settings import CallSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from bsgbat_gui.core.audio.recording import RecordingInfo

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]

# Powers below this (-200 dB re full scale) are taken as this: digital zero has no logarithm.
POWER_FLOOR = 1e-20
# The coarse pass flags a frame when any band cell is within this of the call threshold: its
# frames lie up to a quarter window off the fine ones and may catch a short call off-centre.
# Not more: with ~190 bins a frame, a lower flag is crossed by the noise in most frames.
CANDIDATE_MARGIN_DB = 3.0
# A call is measured whole when it lasts at most this: the margin read after each block.
MAX_CALL_S = 0.25
# Fine frames computed at a time (bounds the memory of a block full of calls).
FINE_CHUNK_FRAMES = 8192
# Fewer valid (not digital-zero) coarse frames than this in a block: no floor, no calls.
MIN_FLOOR_FRAMES = 8


@dataclass(frozen=True)
class SpectralGrid:
    """The STFT a recording is analysed with: sizes in samples at the true rate.

    Frame ``j`` is a ``n_window``-sample Hann window centred on sample ``j * hop``, zero-padded
    to ``n_fft``; coarse frames are those with ``j % coarse_step == 0``. ``bin_lo:bin_hi`` are
    the FFT bins of the analysis band.
    """

    rate_hz: int
    n_window: int
    n_fft: int
    hop: int
    coarse_step: int
    bin_lo: int
    bin_hi: int

    @property
    def hop_s(self) -> float:
        """Time between fine frames."""
        return self.hop / self.rate_hz

    @property
    def bin_khz(self) -> float:
        """Spacing of the FFT bins."""
        return self.rate_hz / self.n_fft / 1000.0

    @property
    def n_bins(self) -> int:
        """Bins in the analysis band (0 when the band is above the Nyquist frequency)."""
        return max(0, self.bin_hi - self.bin_lo)

    @property
    def freqs_khz(self) -> FloatArray:
        """``[n_bins]`` centre frequencies of the band's bins."""
        return np.arange(self.bin_lo, self.bin_hi, dtype=np.float64) * self.bin_khz

    @property
    def full_scale_db(self) -> float:
        """The power of a full-scale sine's peak bin (Hann window), in dB: the 0 dB reference."""
        return 20.0 * math.log10(self.n_window / 4.0)


def _fft_size(target: float) -> int:
    """An even FFT length near ``target`` whose factors keep the FFT fast."""
    import scipy.fft

    target = max(16.0, target)
    below = scipy.fft.prev_fast_len(int(target), real=True)
    above = scipy.fft.next_fast_len(math.ceil(target), real=True)
    candidates = [n for n in (below, above, 2 * round(target / 2)) if n % 2 == 0 and n >= 16]
    return min(candidates, key=lambda n: (abs(n - target), n))


def spectral_grid(settings: CallSettings, rate_hz: int) -> SpectralGrid:
    """The grid ``settings`` give at a true rate (the band clipped at the Nyquist frequency)."""
    n_window = max(8, round(rate_hz * settings.window_ms / 1000.0))
    n_fft = _fft_size(2.0 * n_window)
    hop = max(1, round(rate_hz * settings.hop_ms / 1000.0))
    # Coarse frames half a window apart: every stretch of sound is near the centre of one.
    coarse_step = max(1, round(n_window / 2 / hop))
    bin_hz = rate_hz / n_fft
    nyquist_bin = n_fft // 2
    bin_lo = max(1, math.ceil(settings.fmin_khz * 1000.0 / bin_hz - 1e-9))
    bin_hi = min(nyquist_bin, math.floor(settings.fmax_khz * 1000.0 / bin_hz + 1e-9) + 1)
    return SpectralGrid(rate_hz, n_window, n_fft, hop, coarse_step, bin_lo, max(bin_lo, bin_hi))


def band_problem(settings: CallSettings, rate_hz: int) -> str | None:
    """Why no call can be found at this true rate (the band is above Nyquist), if so."""
    if spectral_grid(settings, rate_hz).n_bins == 0:
        return (
            f"true sample rate {rate_hz / 1000:g} kHz records nothing in the call band "
            f"{settings.fmin_khz:g}–{settings.fmax_khz:g} kHz"
        )
    return None


@dataclass(frozen=True)
class CallsFound:
    """Progress of :func:`iter_calls`: the calls one block keeps, and how far it has got.

    ``rows`` are measured rows (``start_s … snr_db``, see
    :func:`~bsgbat_gui.core.calls.parameters.measure_region`), not yet sorted.
    """

    rows: tuple[tuple[float, ...], ...]
    done_s: float
    duration_s: float


@dataclass(frozen=True)
class _Box:
    first: int
    last: int
    bin_lo: int
    bin_hi: int

    def overlaps(self, other: _Box) -> bool:
        return (
            self.first <= other.last
            and other.first <= self.last
            and self.bin_lo <= other.bin_hi
            and other.bin_lo <= self.bin_hi
        )


def _read_padded(signal: ModelRateSignal, start: int, stop: int) -> Float32Array:
    """Samples ``[start, stop)`` at the true rate, zero outside the file."""
    out = np.zeros(stop - start, dtype=np.float32)
    lo, hi = max(0, start), min(signal.info.header_frames, stop)
    if hi > lo:
        block = signal.read_true_rate(lo, hi)
        out[lo - start : lo - start + len(block)] = block
    return out


def _band_power(
    samples: Float32Array, offsets: npt.NDArray[np.intp], grid: SpectralGrid
) -> tuple[Float32Array, npt.NDArray[np.bool_]]:
    """Band power ``[n_frames, n_bins]`` of frames starting at ``offsets`` in ``samples``, and
    which frames hold only digital zero.
    """
    import scipy.fft

    from bsgbat_gui.core.audio.dsp import hann_periodic

    window = hann_periodic(grid.n_window).astype(np.float32)
    power = np.empty((len(offsets), grid.n_bins), dtype=np.float32)
    silent = np.empty(len(offsets), dtype=np.bool_)
    index = np.arange(grid.n_window)
    for lo in range(0, len(offsets), FINE_CHUNK_FRAMES):
        chunk = offsets[lo : lo + FINE_CHUNK_FRAMES]
        frames = samples[chunk[:, None] + index]
        silent[lo : lo + len(chunk)] = ~frames.any(axis=1)
        spectrum = scipy.fft.rfft(frames * window, n=grid.n_fft, axis=1)
        spectrum = spectrum[:, grid.bin_lo : grid.bin_hi]
        power[lo : lo + len(chunk)] = spectrum.real**2 + spectrum.imag**2
    return power, silent


def _to_db(power: Float32Array, grid: SpectralGrid) -> Float32Array:
    """Levels in dB re full scale (digital zero at the power floor, not −∞)."""
    db: Float32Array = np.log10(np.maximum(power, np.float32(POWER_FLOOR)))
    db *= np.float32(10.0)
    db -= np.float32(grid.full_scale_db)
    return db


def iter_calls(
    info: RecordingInfo,
    settings: CallSettings | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[CallsFound]:
    """Find and measure a recording's calls, block by block (memory bounded by one block).

    Parameters
    ----------
    info
        The recording (time expansion decided by its probe).
    settings
        Defaults when not given.
    should_stop
        Checked between blocks; the generator ends early when it returns True.

    Yields
    ------
    CallsFound
        After each block: the calls it keeps and how much of the recording is done.

    Raises
    ------
    RecordingError
        When the recording cannot be read.
    """
    settings = settings or CallSettings()
    grid = spectral_grid(settings, info.true_rate_hz)
    duration_s = info.duration_s
    if grid.n_bins == 0:
        yield CallsFound((), duration_s, duration_s)
        return
    n_frames = -(-info.header_frames // grid.hop)  # centres 0, hop, … up to the last sample
    step = grid.coarse_step
    block_frames = max(step, round(settings.noise_block_s / grid.hop_s / step) * step)
    delta = 2 * step  # starts this close to a block edge may be found by both blocks
    pre = delta + 3 * step
    post = math.ceil(MAX_CALL_S / grid.hop_s) + delta
    carried: list[_Box] = []
    with ModelRateSignal(info) as signal:
        for own_lo in range(0, n_frames, block_frames):
            if should_stop is not None and should_stop():
                return
            own_hi = min(n_frames, own_lo + block_frames)
            rows, carried = _block_calls(
                signal, grid, settings, own_lo, own_hi, n_frames, pre, post, delta, carried,
                duration_s,
            )  # fmt: skip
            # A call's loudest cell must be louder than a recorder's own silence (see
            # CallSettings.min_level_db); quieter "calls" are quantisation noise of quiet files.
            loud = tuple(r for r in rows if r[PEAK_LEVEL_COLUMN] >= settings.min_level_db)
            yield CallsFound(loud, min(duration_s, own_hi * grid.hop_s), duration_s)


def measure_calls(
    info: RecordingInfo,
    settings: CallSettings | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> CallTable:
    """All of a recording's calls, in order of start time (see :func:`iter_calls`)."""
    rows: list[tuple[float, ...]] = []
    for found in iter_calls(info, settings, should_stop=should_stop):
        rows.extend(found.rows)
    return CallTable.from_rows(rows)


def _block_calls(
    signal: ModelRateSignal,
    grid: SpectralGrid,
    settings: CallSettings,
    own_lo: int,
    own_hi: int,
    n_frames: int,
    pre: int,
    post: int,
    delta: int,
    carried: list[_Box],
    duration_s: float,
) -> tuple[list[tuple[float, ...]], list[_Box]]:
    step = grid.coarse_step
    area_lo = max(0, own_lo - pre) // step * step
    area_hi = min(n_frames, own_hi + post)
    half = grid.n_window // 2
    first_sample = area_lo * grid.hop - half
    samples = _read_padded(signal, first_sample, (area_hi - 1) * grid.hop - half + grid.n_window)

    # Coarse pass: the floor (from the block's own frames) and where the fine STFT is needed.
    coarse_j = np.arange(area_lo, area_hi, step)
    coarse_power, coarse_silent = _band_power(samples, (coarse_j - area_lo) * grid.hop, grid)
    own = (coarse_j >= own_lo) & (coarse_j < own_hi) & ~coarse_silent
    if int(own.sum()) < MIN_FLOOR_FRAMES:
        return [], []
    floor_power = np.percentile(coarse_power[own], settings.noise_percentile, axis=0)
    floor_power = np.maximum(floor_power, POWER_FLOOR).astype(np.float32)
    flag_ratio = np.float32(10 ** ((settings.threshold_db - CANDIDATE_MARGIN_DB) / 10))
    flagged = (coarse_power > floor_power * flag_ratio).any(axis=1) & ~coarse_silent
    if not flagged.any():
        return [], []
    from scipy import ndimage

    # The fine STFT also covers a call's weaker start and end, below the coarse flag: as far as
    # a window and a bridge reach, plus a coarse frame.
    bridge = round(settings.bridge_ms / 1000.0 / grid.hop_s)
    reach = math.ceil((bridge + grid.n_window / grid.hop) / step) + 1
    flagged = ndimage.binary_dilation(flagged, iterations=reach)
    floor_db = _to_db(floor_power[None, :], grid)[0]
    all_j = np.arange(area_lo, area_hi)
    nearest_coarse = np.minimum((all_j - area_lo + step // 2) // step, len(coarse_j) - 1)
    while True:
        fine_j = all_j[flagged[nearest_coarse]]
        level_db, labels, image_row = _fine_pass(
            samples, (fine_j - area_lo) * grid.hop, grid, settings, floor_db, bridge
        )
        # A call reaching the end of its stretch may go on below the coarse flag (the faint
        # start or end of a long constant-frequency call): widen the stretch and look again.
        grow = _stretch_ends_in_calls(labels, image_row, fine_j, area_lo, area_hi, bridge)
        if len(grow) == 0:
            break
        wider = flagged | ndimage.binary_dilation(
            np.isin(np.arange(len(coarse_j)), nearest_coarse[grow - area_lo]), iterations=reach
        )
        if (wider == flagged).all():
            break
        flagged = wider
    row_of_image = np.full(len(labels), -1, dtype=np.intp)
    row_of_image[image_row] = np.arange(len(fine_j))

    freqs = grid.freqs_khz
    min_frames = settings.min_duration_ms / 1000.0 / grid.hop_s - 1e-9
    rows: list[tuple[float, ...]] = []
    kept: list[_Box] = []
    for number, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        r0, r1 = row_of_image[box[0].start], row_of_image[box[0].stop - 1] + 1
        if r1 - r0 != box[0].stop - box[0].start:  # pragma: no cover - gaps keep calls apart
            raise AssertionError("a call spans two stretches")
        first, last = int(fine_j[r0]), int(fine_j[r1 - 1])
        if last - first + 1 < min_frames:
            continue
        if not own_lo - delta <= first < own_hi + delta:
            continue  # another block's call
        region_box = _Box(first, last, box[1].start, box[1].stop - 1)
        if first < own_lo + delta and any(region_box.overlaps(b) for b in carried):
            continue  # the previous block kept it
        c0, c1 = box[1].start, box[1].stop
        level = level_db[r0:r1]
        region = RegionMeasure(
            level_db=level[:, c0:c1],
            inside=labels[box] == number,
            floor_db=floor_db[c0:c1],
            freqs_khz=freqs[c0:c1],
            bin_khz=grid.bin_khz,
            row_times_s=fine_j[r0:r1] * grid.hop_s,
            hop_s=grid.hop_s,
        )
        peak_row, peak_col = peak_cell(region)
        col = c0 + peak_col
        below = float(level[peak_row, col - 1]) if col > 0 else math.nan
        upper = float(level[peak_row, col + 1]) if col + 1 < grid.n_bins else math.nan
        rows.append(
            measure_region(
                region,
                edge_db=settings.edge_db,
                neighbours_db=(below, upper),
                recording_duration_s=duration_s,
            )
        )
        kept.append(region_box)
    return rows, [b for b in kept if b.last >= own_hi - delta]


def _label_calls(
    grown: npt.NDArray[np.bool_], seeds: npt.NDArray[np.bool_], bridge: int
) -> npt.NDArray[np.int32]:
    """``[rows, bins]`` call numbers (0: none) of the grown cells connected to a seed.

    Cells in the same or adjacent bins up to ``bridge`` frames apart are connected: the cells
    are dilated in time by half that on either side for labelling, and the labels are then
    kept on the cells themselves.
    """
    from scipy import ndimage

    joined = grown
    if bridge > 0:
        half = bridge // 2
        extra = bridge - 2 * half  # an odd bridge reaches one frame further forward
        structure = np.ones((2 * half + 1 + extra, 1), dtype=np.bool_)
        joined = ndimage.binary_dilation(
            grown, structure=structure, origin=(-extra, 0) if extra else 0
        )
    labels, n = ndimage.label(joined, structure=np.ones((3, 3), dtype=np.int32))
    labels = np.where(grown, labels, 0).astype(np.int32)
    seeded = np.zeros(n + 1, dtype=np.bool_)
    seeded[labels[seeds & grown]] = True
    seeded[0] = False
    labels[~seeded[labels]] = 0
    return labels


def _fine_pass(
    samples: Float32Array,
    offsets: npt.NDArray[np.intp],
    grid: SpectralGrid,
    settings: CallSettings,
    floor_db: Float32Array,
    bridge: int,
) -> tuple[Float32Array, npt.NDArray[np.int32], npt.NDArray[np.intp]]:
    """Levels ``[n_frames, n_bins]`` of the frames at ``offsets``, the call numbers of the
    image they are laid out in (stretches of consecutive frames apart by blank rows, so that no
    call spans two), and each frame's row in that image.
    """
    fine_power, _ = _band_power(samples, offsets, grid)
    level_db = _to_db(fine_power, grid)
    del fine_power
    breaks = np.concatenate([[0], np.diff(offsets) > grid.hop]).astype(np.intp) * (bridge + 1)
    image_row = np.arange(len(offsets)) + np.cumsum(breaks)
    n_rows = int(image_row[-1]) + 1
    relative = level_db - floor_db
    grown = np.zeros((n_rows, grid.n_bins), dtype=np.bool_)
    grown[image_row] = relative >= np.float32(settings.extend_db)
    seeds = np.zeros_like(grown)
    seeds[image_row] = relative >= np.float32(settings.threshold_db)
    del relative
    return level_db, _label_calls(grown, seeds, bridge), image_row


def _stretch_ends_in_calls(
    labels: npt.NDArray[np.int32],
    image_row: npt.NDArray[np.intp],
    fine_j: npt.NDArray[np.intp],
    area_lo: int,
    area_hi: int,
    bridge: int,
) -> npt.NDArray[np.intp]:
    """The frames (global indices) ending a stretch whose last ``bridge + 1`` frames hold a call
    cell, where the stretch could go on (not at the edge of the block's area).
    """
    in_call = labels[image_row].any(axis=1)
    before = np.concatenate([[0], np.cumsum(in_call)])  # call frames before each frame
    starts = np.flatnonzero(np.concatenate([[True], np.diff(fine_j) > 1]))
    ends = np.concatenate([starts[1:] - 1, [len(fine_j) - 1]])
    at_start = before[np.minimum(ends, starts + bridge) + 1] - before[starts] > 0
    at_end = before[ends + 1] - before[np.maximum(starts, ends - bridge)] > 0
    grow_start = starts[at_start & (fine_j[starts] > area_lo)]
    grow_end = ends[at_end & (fine_j[ends] < area_hi - 1)]
    return np.concatenate([fine_j[grow_start], fine_j[grow_end]]).astype(np.intp)
