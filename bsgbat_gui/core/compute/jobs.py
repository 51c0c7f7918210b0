"""Jobs the GUI runs in its compute processes (:mod:`bsgbat_gui.core.compute.process`).

Each job is a generator called as ``job(*args, should_stop=...)`` in a child process; what it
yields crosses back to the GUI process, so it is an immutable, picklable core object.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bsgbat_gui.core.analysis.analyse import AnalysisEvent, windows_for
from bsgbat_gui.core.analysis.pipeline import analyse_recordings
from bsgbat_gui.core.analysis.reproducible import reproducible_numerics
from bsgbat_gui.core.audio.linear_spectrogram import LinearSpectrogram, linear_spectrogram
from bsgbat_gui.core.audio.recording import ModelRateSignal, RecordingInfo, probe_recording
from bsgbat_gui.core.audio.segments import model_input_image
from bsgbat_gui.core.audio.spectrogram import DisplaySpectrogram, display_spectrogram
from bsgbat_gui.core.models.ensemble import Ensemble
from bsgbat_gui.core.models.locate import ModelSet, locate_model_set
from bsgbat_gui.core.review.analysis_cache import StoreCache
from bsgbat_gui.core.review.connection import StoreError
from bsgbat_gui.core.review.store import ReviewStore

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

# One ensemble per compute process, kept across jobs: creating the ONNX Runtime sessions for six
# ~83 MB models takes seconds.
_ensembles: dict[tuple[Path, int], Ensemble] = {}


def warm_up() -> None:
    """Run one whole spectrogram job on a small file, so the first real one does not pay the
    first-call costs (file probing, the display spectrogram's allocations, levels: about half
    its time). Nothing on this path compiles anything (:mod:`bsgbat_gui.core.audio.dsp`): it takes
    a fraction of a second, first start included.

    The linear view is not warmed up: importing scipy's FFT takes ~0.1 s, which every start would
    pay before its first spectrogram; the first linear image pays it instead, once.
    """
    import tempfile

    import soundfile

    from bsgbat_gui.core.model_card import MODEL_SAMPLE_RATE_HZ

    with tempfile.TemporaryDirectory(prefix="bsgbat-warm-up-") as tmp:
        path = Path(tmp) / "warm-up.wav"
        rng = np.random.default_rng(0)
        noise = (rng.standard_normal(MODEL_SAMPLE_RATE_HZ * 2) * 0.01).astype(np.float32)
        soundfile.write(str(path), noise, MODEL_SAMPLE_RATE_HZ, subtype="PCM_16")
        load_spectrogram(path)


def warm_up_analysis(models_dir: Path | None, intra_op_threads: int) -> None:
    """:func:`warm_up`; resampy's compiled resampling kernel (faster for long files, compiled
    here in the background, ~0.4 s); then the ensemble of the model set the window will use
    (when there is one), so the first recording opened does not wait seconds for six sessions
    to be created. A missing or broken set is left for the first analysis job to report.
    """
    import onnxruntime  # noqa: F401

    from bsgbat_gui.core.audio import resample

    warm_up()
    resample.use_compiled_kernel()
    try:
        ensemble_for(locate_model_set(models_dir), intra_op_threads)
    except Exception as exc:  # noqa: BLE001 - reported properly by the first job
        log.info("models not preloaded: %s", exc)


def ensemble_for(model_set: ModelSet, intra_op_threads: int) -> Ensemble:
    """The process's ensemble of ``model_set`` (made once, kept across jobs)."""
    key = (model_set.folder.resolve(), intra_op_threads)
    if key not in _ensembles:
        _ensembles.clear()  # one model set at a time: each holds ~0.5 GB of sessions
        _ensembles[key] = Ensemble(model_set, intra_op_threads=intra_op_threads)
    return _ensembles[key]


def analysis_job(
    path: Path,
    model_set: ModelSet,
    time_expansion: float | None,
    intra_op_threads: int,
    store_path: Path | None = None,
    *,
    should_stop: Callable[[], bool],
) -> Iterator[AnalysisEvent]:
    """Analyse one recording (see :func:`analyse_recordings`); a bad file yields a failure event.

    With ``store_path``, the review store is the analysis cache: a recording analysed before by
    this model set is read from it (no model runs, the models are not even loaded), a new
    analysis is saved to it.

    Raises :class:`~bsgbat_gui.core.models.locate.ModelSetError` when the models cannot be loaded.
    """
    cache = _store_cache(store_path, model_set) if store_path is not None else None
    with reproducible_numerics():  # the numbers `analyze` stores, to the last bit
        yield from analyse_recordings(
            [path],
            lambda: ensemble_for(model_set, intra_op_threads),
            time_expansion=time_expansion,
            cache=cache,
            should_stop=should_stop,
        )


# One store connection and model-set identity per compute process, kept across jobs.
_store_caches: dict[tuple[Path, Path], StoreCache] = {}


def _store_cache(store_path: Path, model_set: ModelSet) -> StoreCache | None:
    key = (store_path, model_set.folder)
    if key not in _store_caches:
        try:
            store = ReviewStore.open(store_path, exclusive=False)
        except StoreError as exc:
            log.warning("analysing without the review store: %s", exc)
            return None
        _store_caches[key] = StoreCache(store, model_set)
    return _store_caches[key]


@dataclass(frozen=True)
class LoadedSpectrogram:
    """A recording's display spectrogram, with what the view needs alongside it."""

    path: Path
    info: RecordingInfo
    spectrogram: DisplaySpectrogram
    model_input: np.ndarray | None  # [frames, 128] 0..6, when the spectrogram is not reduced
    levels: tuple[float, float]  # automatic dB levels


def load_spectrogram(
    path: Path,
    time_expansion: float | None = None,
    *,
    max_columns: int = 30_000,
    should_stop: Callable[[], bool] | None = None,
) -> LoadedSpectrogram | None:
    """Probe ``path`` and compute its display spectrogram; ``None`` when stopped part-way.

    Raises :class:`~bsgbat_gui.core.audio.recording.RecordingError` for a file that cannot be read.
    """
    info = probe_recording(path, time_expansion=time_expansion)
    with ModelRateSignal(info) as signal:
        spectrogram = display_spectrogram(signal, max_columns=max_columns, should_stop=should_stop)
    if spectrogram is None:
        return None
    model_input = None
    if spectrogram.frames_per_column == 1:  # the model's own frames: its input can be shown too
        log_mel = spectrogram.db / np.float32(10.0)
        model_input = model_input_image(log_mel, windows_for(info))
    return LoadedSpectrogram(path, info, spectrogram, model_input, spectrogram.auto_levels())


def spectrogram_job(
    path: Path, time_expansion: float | None, *, should_stop: Callable[[], bool]
) -> Iterator[LoadedSpectrogram]:
    """Yield the display spectrogram of ``path`` (one :class:`LoadedSpectrogram`)."""
    loaded = load_spectrogram(path, time_expansion, should_stop=should_stop)
    if loaded is not None:
        yield loaded


@dataclass(frozen=True)
class LoadedDetail:
    """A span of a recording's display spectrogram at full resolution (for zooming in)."""

    path: Path
    spectrogram: DisplaySpectrogram


def detail_job(
    path: Path,
    time_expansion: float | None,
    first_frame: int,
    stop_frame: int,
    *,
    max_columns: int = 8_192,
    should_stop: Callable[[], bool],
) -> Iterator[LoadedDetail]:
    """The display spectrogram of frames [first_frame, stop_frame), reduced to ``max_columns``."""
    info = probe_recording(path, time_expansion=time_expansion)
    with ModelRateSignal(info) as signal:
        spectrogram = display_spectrogram(
            signal,
            max_columns=max_columns,
            span_frames=(first_frame, stop_frame),
            should_stop=should_stop,
        )
    if spectrogram is not None:
        yield LoadedDetail(path, spectrogram)


@dataclass(frozen=True)
class LoadedLinear:
    """A span of a recording's linear-frequency spectrogram, at screen resolution."""

    path: Path
    spectrogram: LinearSpectrogram


def linear_job(
    path: Path,
    time_expansion: float | None,
    start_s: float,
    end_s: float,
    max_columns: int,
    *,
    should_stop: Callable[[], bool],
) -> Iterator[LoadedLinear]:
    """The linear-frequency spectrogram of ``[start_s, end_s]`` (true seconds) in at most
    ``max_columns`` columns (:func:`~bsgbat_gui.core.audio.linear_spectrogram.linear_spectrogram`).
    """
    info = probe_recording(path, time_expansion=time_expansion)
    spectrogram = linear_spectrogram(
        info, start_s, end_s, max_columns=max_columns, should_stop=should_stop
    )
    if spectrogram is not None:
        yield LoadedLinear(path, spectrogram)
