"""Random-weight models shaped like the BSG-BAT release, for benchmarking without downloading.

Six convolution + max-pool blocks, three fully connected layers, ≈ 20 M parameters (≈ 80 MB of
float32 weights per file), the release's I/O contract (``spectrogram`` float32
``[batch, 1, 512, 128]`` → ``logits`` ``[batch, 22]``). The weights are random (He-scaled so
activations stay finite): these models measure speed and memory, never species — they are
benchmark devices, not classifiers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bsgbat_gui.core.model_card import (
    INPUT_NAME,
    LABELS_FILENAME,
    MODEL_FILENAMES,
    N_MELS,
    OUTPUT_NAME,
    SEGMENT_FRAMES,
)
from bsgbat_gui.core.species import SPECIES

if TYPE_CHECKING:
    from pathlib import Path

CONV_CHANNELS = (16, 32, 64, 128, 256, 256)
FC_UNITS = (4096, 512)
N_CLASSES = len(SPECIES)


def n_parameters() -> int:
    total, channels_in = 0, 1
    for c in CONV_CHANNELS:
        total += c * channels_in * 9 + c
        channels_in = c
    flat = CONV_CHANNELS[-1] * (SEGMENT_FRAMES >> 6) * (N_MELS >> 6)
    for units in (*FC_UNITS, N_CLASSES):
        total += flat * units + units
        flat = units
    return total


def shaped_model(seed: int) -> object:
    """One release-shaped ONNX model (an ``onnx.ModelProto``) with random weights."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    nodes, weights = [], []
    x, channels_in = INPUT_NAME, 1
    for i, c in enumerate(CONV_CHANNELS):
        w = rng.standard_normal((c, channels_in, 3, 3)) * np.sqrt(2.0 / (9 * channels_in))
        weights += [numpy_helper.from_array(w.astype(np.float32), f"conv{i}_w"),
                    numpy_helper.from_array(np.zeros(c, np.float32), f"conv{i}_b")]  # fmt: skip
        nodes += [
            helper.make_node("Conv", [x, f"conv{i}_w", f"conv{i}_b"], [f"c{i}"], pads=[1] * 4),
            helper.make_node("Relu", [f"c{i}"], [f"r{i}"]),
            helper.make_node("MaxPool", [f"r{i}"], [f"p{i}"], kernel_shape=[2, 2], strides=[2, 2]),
        ]
        x, channels_in = f"p{i}", c
    nodes.append(helper.make_node("Flatten", [x], ["flat"], axis=1))
    x = "flat"
    flat = CONV_CHANNELS[-1] * (SEGMENT_FRAMES >> 6) * (N_MELS >> 6)
    for j, units in enumerate((*FC_UNITS, N_CLASSES)):
        w = rng.standard_normal((flat, units)) * np.sqrt(2.0 / flat)
        weights += [numpy_helper.from_array(w.astype(np.float32), f"fc{j}_w"),
                    numpy_helper.from_array(np.zeros(units, np.float32), f"fc{j}_b")]  # fmt: skip
        last = j == len(FC_UNITS)
        out = OUTPUT_NAME if last else f"g{j}"
        nodes.append(helper.make_node("Gemm", [x, f"fc{j}_w", f"fc{j}_b"], [out]))
        if not last:
            nodes.append(helper.make_node("Relu", [out], [f"h{j}"]))
            x = f"h{j}"
        flat = units
    graph = helper.make_graph(
        nodes,
        "bsgbat_shaped_benchmark_model",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT,
                                       ["batch", 1, SEGMENT_FRAMES, N_MELS])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", N_CLASSES])],
        initializer=weights,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_shaped_model_set(folder: Path, n_models: int = len(MODEL_FILENAMES)) -> Path:
    """A model-set folder (six files + labels) of release-shaped random models."""
    import onnx

    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(MODEL_FILENAMES[:n_models]):
        onnx.save(shaped_model(seed=100 + i), str(folder / name))  # type: ignore[arg-type]
    labels = "\n".join(s.scientific_name for s in SPECIES) + "\n"
    (folder / LABELS_FILENAME).write_text(labels, encoding="utf-8")
    return folder
