"""An INT8 copy of a model set, validated against the FP32 original before anyone uses it.

Quantisation: ONNX Runtime static quantisation (QDQ, per-channel INT8 weights, UINT8
activations), calibrated on real model inputs — the same normalised 0..6 spectrogram windows the
models see. Dynamic quantisation was tried first and was 5x *slower* than FP32 on these conv
nets (ConvInteger has no fast kernel); static QDQ lets ONNX Runtime use its integer
dot-product kernels.

Validation, as ``model-export-and-validation.txt`` validates exports: reference inputs (windows of
recordings plus random 0..6 windows), FP32 and INT8 ensembles run on them, max and mean absolute
difference of the *ensemble probabilities*, and agreement of detections at 0.5. Past the
tolerance (INT8: 100 x the FP32 tolerance of 1e-4, i.e. 0.01 max abs difference, and 99 %
agreement) the copy is refused: nothing is installed.

A validated set carries ``QUANTIZED.json`` (its source, the tool and the validation numbers);
the model-set identity then ends in ``-int8`` so every export says which set made it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bsgbat_gui.core.files import sha256_file
from bsgbat_gui.core.model_card import (
    CHECKSUMS_FILENAME,
    INPUT_NAME,
    LABELS_FILENAME,
    N_MELS,
    SEGMENT_FRAMES,
)
from bsgbat_gui.core.models.ensemble import Ensemble, sigmoid
from bsgbat_gui.core.models.locate import QUANTIZED_MARKER, ModelSet, read_model_set

if TYPE_CHECKING:
    from collections.abc import Callable

INT8_MAX_ABS_DIFF = 0.01  # 100 x the FP32 export tolerance (1e-4), as the validation guide sets
INT8_MIN_AGREEMENT = 0.99  # share of (window, species) detections at 0.5 that must agree
CALIBRATION_WINDOWS = 64


class QuantizeError(Exception):
    """The INT8 copy could not be made, or failed validation (nothing installed)."""


@dataclass(frozen=True)
class ValidationReport:
    """How an INT8 copy compares with the FP32 ensemble on reference windows."""

    n_inputs: int
    max_abs_diff: float
    mean_abs_diff: float
    agreement_at_0_5: float
    max_abs_diff_allowed: float
    min_agreement: float

    @property
    def passed(self) -> bool:
        """Whether the copy is within the tolerances (max |Δp|, agreement at 0.5)."""
        return (
            self.max_abs_diff <= self.max_abs_diff_allowed
            and self.agreement_at_0_5 >= self.min_agreement
        )

    def describe(self) -> str:
        """The comparison in one line."""
        return (
            f"{self.n_inputs} windows: max |Δp| {self.max_abs_diff:.4g} (allowed "
            f"{self.max_abs_diff_allowed:g}), mean |Δp| {self.mean_abs_diff:.3g}, detections at "
            f"0.5 agree {self.agreement_at_0_5:.2%} (needed {self.min_agreement:.0%})"
        )


def random_inputs(n: int, seed: int = 0) -> np.ndarray:
    """Windows shaped and scaled like model input: mostly 0, sparse values up to 6."""
    rng = np.random.default_rng(seed)
    x = rng.gamma(0.6, 1.2, size=(n, 1, SEGMENT_FRAMES, N_MELS)).astype(np.float32)
    return np.clip(x * (rng.random(x.shape) < 0.35), 0.0, 6.0).astype(np.float32)


def ensemble_probabilities(ensemble: Ensemble, inputs: np.ndarray, batch: int = 16) -> np.ndarray:
    """Mean-combined probabilities of ``inputs`` [n, 1, 512, 128], in batches."""
    out = [
        sigmoid(ensemble.run(inputs[i : i + batch]).mean(axis=0))
        for i in range(0, len(inputs), batch)
    ]
    return np.concatenate(out)


def validate(
    fp32: ModelSet,
    int8: ModelSet,
    inputs: np.ndarray,
    *,
    max_abs_diff: float = INT8_MAX_ABS_DIFF,
    min_agreement: float = INT8_MIN_AGREEMENT,
) -> ValidationReport:
    """Compare an INT8 ensemble with the FP32 one on ``inputs`` (see :class:`ValidationReport`)."""
    p32 = ensemble_probabilities(Ensemble(fp32), inputs)
    p8 = ensemble_probabilities(Ensemble(int8), inputs)
    diff = np.abs(p32.astype(np.float64) - p8)
    agreement = float(np.mean((p32 >= 0.5) == (p8 >= 0.5)))
    return ValidationReport(
        len(inputs), float(diff.max()), float(diff.mean()), agreement, max_abs_diff, min_agreement
    )


def quantize_model(source: Path, dest: Path, calibration: np.ndarray) -> None:
    """Static INT8 quantisation of one model, calibrated on ``calibration`` windows."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Windows(CalibrationDataReader):  # type: ignore[misc]  # onnxruntime is untyped
        def __init__(self) -> None:
            self._it = iter(calibration[i : i + 1] for i in range(len(calibration)))

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self._it, None)
            return None if x is None else {INPUT_NAME: x}

    with tempfile.TemporaryDirectory(prefix="bsgbat-quantize-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        # Shape inference and graph folding first, as ONNX Runtime recommends; the symbolic
        # pass needs sympy, which the plain ONNX pass does without.
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared), str(dest), Windows(), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        )  # fmt: skip


def quantize_model_set(
    source: ModelSet,
    dest: Path,
    reference_inputs: np.ndarray,
    *,
    max_abs_diff: float = INT8_MAX_ABS_DIFF,
    min_agreement: float = INT8_MIN_AGREEMENT,
    log: Callable[[str], object] = lambda line: None,
) -> ValidationReport:
    """Write a validated INT8 copy of ``source`` to ``dest`` (which must not exist yet).

    The copy is built in a temporary folder next to ``dest`` and renamed into place only when
    it passes validation; raises :class:`QuantizeError` otherwise (with the numbers).
    """
    if dest.exists():
        raise QuantizeError(f"{dest} already exists; choose another --dest or remove it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    calibration = reference_inputs[:CALIBRATION_WINDOWS]
    build = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        for path in source.model_paths:
            log(f"quantising {path.name}…")
            quantize_model(path, build / path.name, calibration)
        shutil.copy2(source.folder / LABELS_FILENAME, build / LABELS_FILENAME)
        int8 = read_model_set(build, origin="int8 (being validated)")
        log(f"validating against FP32 on {len(reference_inputs)} windows…")
        report = validate(source, int8, reference_inputs, max_abs_diff=max_abs_diff,
                          min_agreement=min_agreement)  # fmt: skip
        if not report.passed:
            raise QuantizeError(f"INT8 copy refused, nothing installed: {report.describe()}")
        marker = {
            "source": str(source.folder),
            "quantization": "onnxruntime static QDQ, per-channel INT8 weights, UINT8 activations",
            "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "validation": asdict(report),
        }
        (build / QUANTIZED_MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        sums = [f"{sha256_file(p)}  {p.name}" for p in sorted(build.iterdir()) if p.is_file()]
        (build / CHECKSUMS_FILENAME).write_text("\n".join(sums) + "\n")
        build.rename(dest)
        return report
    finally:
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)
