"""The numbers of the BSG-BAT v0.21 model card, in one place.

Everything that feeds the models derives from these constants; the reference snippet of the card
(``tests/reference_pipeline.py``) uses the same literals independently, and the tests compare.
"""

from __future__ import annotations

MODEL_SAMPLE_RATE_HZ = 384_000
N_FFT = 1024
HOP_LENGTH = 768
N_MELS = 128
FMIN_HZ = 9_000.0
FMAX_HZ = 150_000.0
LOG_OFFSET = 1e-6  # log10(S + 1e-6)
CLIP_MAX = 6.0

SEGMENT_FRAMES = 512  # ~1.024 s
SEGMENT_HOP_FRAMES = 250  # 0.5 s
FRAME_S = HOP_LENGTH / MODEL_SAMPLE_RATE_HZ  # 0.002 s between frame centres
SEGMENT_HOP_S = SEGMENT_HOP_FRAMES * FRAME_S  # 0.5 s
SEGMENT_S = SEGMENT_FRAMES * FRAME_S  # 1.024 s

N_CLASSES = 22
INPUT_NAME = "spectrogram"
OUTPUT_NAME = "logits"

# The card's resampler: librosa.load(..., res_type="kaiser_fast") -> resampy's kaiser_fast filter.
RESAMPLER_FILTER = "kaiser_fast"

MODEL_VERSION = "0.21"
MODEL_FILENAMES = tuple(f"bsgbat_v{MODEL_VERSION}_r{i}.onnx" for i in range(1, 7))
LABELS_FILENAME = "bsgbat_labels.txt"
CHECKSUMS_FILENAME = "SHA256SUMS"
BACKGROUND_LABEL = "Background"

MODEL_ATTRIBUTION = (
    "BSG-BAT v0.21 models by the bsg-bat team, CC-BY-4.0. "
    "bsg-bat team (2025). BSG-BAT (v0.21). Zenodo. https://doi.org/10.5281/zenodo.15495676 "
    "- ONNX conversion by tphakala."
)
