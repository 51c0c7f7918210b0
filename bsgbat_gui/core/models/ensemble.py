"""ONNX Runtime sessions for a model set: validated once, reused, run on batches of segments.

Per-model logits are always kept, so the combine method (mean, median, min, max over models) can
change later without running the models again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.model_card import INPUT_NAME, N_MELS, OUTPUT_NAME, SEGMENT_FRAMES
from bsgbat_gui.core.models.locate import ModelSet, ModelSetError

if TYPE_CHECKING:
    from pathlib import Path

    import onnxruntime

log = logging.getLogger(__name__)

CombineMethod = Literal["mean", "median", "min", "max"]
COMBINE_METHODS: tuple[CombineMethod, ...] = ("mean", "median", "min", "max")
DEFAULT_PROVIDER = "CPUExecutionProvider"

FloatArray = npt.NDArray[np.float32]


def combine_logits(per_model_logits: FloatArray, method: CombineMethod) -> FloatArray:
    """Combine logits over models: ``[n_models, n_seg, n_classes]`` -> ``[n_seg, n_classes]``."""
    combined: FloatArray
    if method == "mean":
        combined = np.mean(per_model_logits, axis=0)
    elif method == "median":
        combined = median_over_models(per_model_logits)
    elif method == "min":
        combined = np.min(per_model_logits, axis=0)
    elif method == "max":
        combined = np.max(per_model_logits, axis=0)
    else:
        raise ValueError(
            f"unknown combine method {method!r}; choose one of {', '.join(COMBINE_METHODS)}"
        )
    return combined


SORTING_NETWORK_MAX_MODELS = 8


def median_over_models(per_model_logits: FloatArray) -> FloatArray:
    """``np.median(x, axis=0)``, equal to it bit for bit, several times faster for an ensemble.

    np.median partitions along a short, strided axis (17 ms for 6 models × 7,200 segments × 22
    labels; the window recombines on every change of method). For a handful of models an
    odd-even transposition sort of whole ``[n_seg, n_classes]`` slices with elementwise
    min/max does the same work in a few vectorised passes.
    """
    x = np.asarray(per_model_logits)
    n = x.shape[0]
    if n > SORTING_NETWORK_MAX_MODELS or n == 0:
        return np.median(x, axis=0).astype(x.dtype, copy=False)
    rows: list[FloatArray] = [x[i] for i in range(n)]
    for round_ in range(n):
        for i in range(round_ % 2, n - 1, 2):
            low, high = np.minimum(rows[i], rows[i + 1]), np.maximum(rows[i], rows[i + 1])
            rows[i], rows[i + 1] = low, high
    middle: FloatArray = (
        rows[n // 2].copy() if n % 2 else (rows[n // 2 - 1] + rows[n // 2]) / x.dtype.type(2)
    )
    return middle


def sigmoid(logits: FloatArray) -> FloatArray:
    """The card's multi-label activation, ``1 / (1 + exp(-logit))``, in float32.

    ``exp`` overflows to ``inf`` for logits below about -88, which gives exactly 0, the right
    limit: the overflow warning is silenced rather than worked around (a ``logaddexp`` form is
    twenty times slower, and the window recomputes this on every change of combine method).
    """
    x = np.asarray(logits, dtype=np.float32)
    with np.errstate(over="ignore"):
        p: FloatArray = np.float32(1.0) / (np.float32(1.0) + np.exp(-x))
    return p.astype(np.float32, copy=False)


def available_providers() -> list[str]:
    """The ONNX Runtime execution providers this installation offers."""
    import onnxruntime

    return list(onnxruntime.get_available_providers())


@dataclass(frozen=True)
class LoadedModel:
    """One checkpoint's ONNX Runtime session and the names it was loaded as."""

    name: str
    session: onnxruntime.InferenceSession


def _check_dim(dim: Any, expected: int) -> bool:
    """An ONNX dim matches when it is the expected integer or symbolic (dynamic)."""
    return not isinstance(dim, int) or dim == expected


def _validate_session(name: str, session: onnxruntime.InferenceSession, n_labels: int) -> None:
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
        got = ", ".join(i.name for i in inputs)
        raise ModelSetError(f"{name}: expected one input named '{INPUT_NAME}', found: {got}")
    inp = inputs[0]
    if inp.type != "tensor(float)":
        raise ModelSetError(f"{name}: input '{INPUT_NAME}' is {inp.type}, expected tensor(float)")
    shape = list(inp.shape)
    if len(shape) != 4 or not all(
        _check_dim(d, e) for d, e in zip(shape[1:], (1, SEGMENT_FRAMES, N_MELS), strict=True)
    ):
        raise ModelSetError(
            f"{name}: input shape {shape}, expected [batch, 1, {SEGMENT_FRAMES}, {N_MELS}]"
        )
    out = next((o for o in outputs if o.name == OUTPUT_NAME), None)
    if out is None:
        got = ", ".join(o.name for o in outputs)
        raise ModelSetError(f"{name}: no output named '{OUTPUT_NAME}' (outputs: {got})")
    out_shape = list(out.shape)
    if len(out_shape) != 2 or not isinstance(out_shape[1], int):
        raise ModelSetError(f"{name}: output shape {out_shape}, expected [batch, {n_labels}]")
    if out_shape[1] != n_labels:
        raise ModelSetError(
            f"{name}: {out_shape[1]} outputs but the labels file lists {n_labels} labels"
        )


def session_options(intra_op_threads: int = 0) -> onnxruntime.SessionOptions:
    """How every session is made: ``intra_op_threads`` (0 = ONNX Runtime's default, all cores),
    one inter-op thread, quiet logging, and memory and threads shared fairly (below).
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # No per-session memory arena: six sessions would each keep their largest activations
    # (hundreds of MB apiece at batch 16) for the life of the process; freed after each run,
    # only one model's activations exist at a time.
    options.enable_cpu_mem_arena = False
    # Idle intra-op threads sleep instead of spinning: spinning threads take the cores the
    # input-preparing thread needs, and the models then wait for their next batch.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def load_session(
    path: Path,
    n_labels: int,
    *,
    options: onnxruntime.SessionOptions | None = None,
    providers: list[str] | None = None,
) -> onnxruntime.InferenceSession:
    """Load one model and check its I/O contract against ``n_labels`` labels.

    Raises :class:`ModelSetError` for a file ONNX Runtime cannot load or a contract violation.
    """
    import onnxruntime

    if options is None:
        options = session_options()
    try:
        session = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=providers or [DEFAULT_PROVIDER]
        )
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises several private exception types
        text = str(exc).strip()
        first_line = text.splitlines()[0] if text else type(exc).__name__
        raise ModelSetError(f"{path}: not a loadable ONNX model ({first_line})") from None
    _validate_session(path.name, session, n_labels)
    return session


def describe_io(session: onnxruntime.InferenceSession) -> tuple[str, str]:
    """``("spectrogram float32 [batch,1,512,128]", "logits [batch,22]")``-style descriptions."""

    def shape(dims: list[Any]) -> str:
        return "[" + ",".join(str(d) for d in dims) + "]"

    inp = session.get_inputs()[0]
    out = next(o for o in session.get_outputs() if o.name == OUTPUT_NAME)
    dtype = inp.type.replace("tensor(", "").replace(")", "").replace("float", "float32")
    return f"{inp.name} {dtype} {shape(list(inp.shape))}", f"{out.name} {shape(list(out.shape))}"


class Ensemble:
    """The loaded, validated sessions of a model set.

    Parameters
    ----------
    provider
        An ONNX Runtime execution provider name; CPU by default.
    intra_op_threads
        Threads ONNX Runtime uses inside one model run (0 = its default, all cores). The GUI
        leaves a core for the event loop.
    """

    def __init__(
        self,
        model_set: ModelSet,
        *,
        provider: str = DEFAULT_PROVIDER,
        intra_op_threads: int = 0,
    ) -> None:
        import onnxruntime

        available = onnxruntime.get_available_providers()
        if provider not in available:
            raise ModelSetError(
                f"execution provider {provider!r} is not available here "
                f"(available: {', '.join(available)})"
            )
        self.model_set = model_set
        self.labels: tuple[str, ...] = model_set.labels
        self.provider = provider
        options = session_options(intra_op_threads)
        providers = [provider] if provider == DEFAULT_PROVIDER else [provider, DEFAULT_PROVIDER]
        self.inference_s = 0.0  # time spent inside InferenceSession.run (benchmark)
        self.models: list[LoadedModel] = []
        for path in model_set.model_paths:
            session = load_session(path, len(self.labels), options=options, providers=providers)
            self.models.append(LoadedModel(name=path.stem, session=session))

    @property
    def n_models(self) -> int:
        """How many checkpoints the ensemble runs."""
        return len(self.models)

    @property
    def n_classes(self) -> int:
        """How many labels each model outputs (22 for BSG-BAT)."""
        return len(self.labels)

    def run(self, batch: FloatArray) -> FloatArray:
        """Per-model logits for a batch: ``[B, 1, 512, 128]`` -> ``[n_models, B, n_classes]``.

        A window's logits do not depend on the batch it is run in: ONNX Runtime computes a
        one-row batch with another kernel (a matrix-vector product) than two rows or more, and
        how windows are packed into batches depends on the run (which recordings go together,
        which were cached, how a cluster cuts the list) — so a one-row batch runs as two copies
        of its row, the first kept.
        """
        if len(batch) == 1:
            return np.ascontiguousarray(self._run_models(np.concatenate([batch, batch]))[:, :1])
        return self._run_models(batch)

    def _run_models(self, batch: FloatArray) -> FloatArray:
        x = np.ascontiguousarray(batch, dtype=np.float32)
        out = np.empty((self.n_models, x.shape[0], self.n_classes), dtype=np.float32)
        started = time.perf_counter()
        for i, model in enumerate(self.models):
            out[i] = model.session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]
        self.inference_s += time.perf_counter() - started
        return out
