"""Tiny ONNX model sets with the BSG-BAT I/O contract, built by the tests themselves.

These are **test devices, not classifiers**. The "band-energy" model gives each species a logit
that rises with the mean model-input energy in a frequency band typical of that species, so its
tracks light up on real recordings and the pipeline can be checked end to end without the real
checkpoints (which cannot be downloaded here).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from bsgbat_gui.core.audio.spectrogram import mel_band_centres_hz
from bsgbat_gui.core.model_card import LABELS_FILENAME, MODEL_FILENAMES, N_MELS, SEGMENT_FRAMES
from bsgbat_gui.core.species import SPECIES

if TYPE_CHECKING:
    from pathlib import Path

LABELS = [s.scientific_name for s in SPECIES]

# Typical peak-frequency band per species, kHz (rough; only used to shape the test model).
SPECIES_BANDS_KHZ = {
    "Barbastella barbastellus": (30, 45),
    "Eptesicus nilssonii": (27, 33),
    "Eptesicus serotinus": (22, 30),
    "Hypsugo savii": (31, 37),
    "Miniopterus schreibersii": (49, 56),
    "Myotis alcathoe": (45, 110),
    "Myotis crypticus": (35, 75),
    "Myotis daubentonii": (40, 55),
    "Nyctalus leisleri": (22, 28),
    "Nyctalus noctula": (17, 23),
    "Pipistrellus kuhlii": (36, 41),
    "Pipistrellus nathusii": (37, 42),
    "Pipistrellus pipistrellus": (43, 50),
    "Pipistrellus pygmaeus": (51, 58),
    "Plecotus auritus": (25, 50),
    "Plecotus austriacus": (22, 35),
    "Rhinolophus euryale": (101, 107),
    "Rhinolophus ferrumequinum": (78, 85),
    "Rhinolophus hipposideros": (105, 115),
    "Tadarida teniotis": (10, 15),
    "Vespertilio murinus": (23, 27),
}


def band_energy_weights(
    *, gain: float = 10.0, offset: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """``W [128, 22]`` and ``b [22]`` of the band-energy model.

    logit_k = gain * (mean input in band_k - mean input over all bins - offset): a species lights
    up when its band stands out from the rest of the spectrum. Background is high when the whole
    spectrum is quiet.
    """
    centres_khz = mel_band_centres_hz() / 1000
    weights = np.zeros((N_MELS, len(LABELS)), np.float32)
    bias = np.full(len(LABELS), -gain * offset, np.float32)
    for k, label in enumerate(LABELS):
        if label in SPECIES_BANDS_KHZ:
            lo, hi = SPECIES_BANDS_KHZ[label]
            in_band = (centres_khz >= lo) & (centres_khz <= hi)
            weights[in_band, k] = gain / max(int(in_band.sum()), 1)
            weights[:, k] -= gain / N_MELS
        else:  # Background: high when nothing stands out anywhere
            weights[:, k] = -gain / N_MELS
            bias[k] = gain * offset
    return weights, bias


def band_energy_model(
    *, gain: float = 10.0, offset: float = 0.25, opset: int = 17
) -> onnx.ModelProto:
    """spectrogram [B,1,512,128] -> mean over time -> [B,128] -> linear -> logits [B,22]."""
    weights, bias = band_energy_weights(gain=gain, offset=offset)
    nodes = [
        helper.make_node("ReduceMean", ["spectrogram"], ["time_mean"], axes=[1, 2], keepdims=0),
        helper.make_node("MatMul", ["time_mean", "W"], ["projected"]),
        helper.make_node("Add", ["projected", "b"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "band_energy_test_model",
        [
            helper.make_tensor_value_info(
                "spectrogram", TensorProto.FLOAT, ["batch", 1, SEGMENT_FRAMES, N_MELS]
            )
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(LABELS)])],
        initializer=[numpy_helper.from_array(weights, "W"), numpy_helper.from_array(bias, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    model.doc_string = "bsgbat-gui TEST DEVICE: band-energy model, not a classifier"
    onnx.checker.check_model(model)
    return model


def contract_model(
    *,
    input_name: str = "spectrogram",
    input_shape: tuple[object, ...] = ("batch", 1, SEGMENT_FRAMES, N_MELS),
    output_name: str = "logits",
    n_outputs: int = len(LABELS),
) -> onnx.ModelProto:
    """A model that flattens its input through a fixed projection; shapes are parameters so tests
    can build contract violations (wrong name, wrong shape, wrong output count)."""
    mels = int(input_shape[3])  # type: ignore[call-overload]
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((mels, n_outputs)) * 0.01).astype(np.float32)
    nodes = [
        helper.make_node("ReduceMean", [input_name], ["m"], axes=[1, 2], keepdims=0),
        helper.make_node("MatMul", ["m", "W"], [output_name]),
    ]
    graph = helper.make_graph(
        nodes,
        "contract_test_model",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["batch", n_outputs])],
        initializer=[numpy_helper.from_array(w, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def write_model_set(
    folder: Path,
    *,
    n_models: int = 6,
    labels: list[str] | None = None,
    with_checksums: bool = True,
) -> Path:
    """A model-set folder of band-energy models whose gains differ slightly per checkpoint."""
    folder.mkdir(parents=True, exist_ok=True)
    sums = []
    for i, name in enumerate(MODEL_FILENAMES[:n_models]):
        model = band_energy_model(
            gain=10.0 * (1 + 0.06 * (i - 2.5)), offset=0.25 + 0.01 * (i - 2.5)
        )
        path = folder / name
        onnx.save(model, str(path))
        sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {name}")
    labels_text = "\n".join(labels if labels is not None else LABELS) + "\n"
    (folder / LABELS_FILENAME).write_text(labels_text, encoding="utf-8")
    if with_checksums:
        sums.append(f"{hashlib.sha256(labels_text.encode()).hexdigest()}  {LABELS_FILENAME}")
        (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")
    return folder
