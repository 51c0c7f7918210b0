"""One colour per model label, the same in every view (tracks, legend, table, shading)."""

from __future__ import annotations

from PySide6.QtGui import QColor

# 22 well-separated colours (qualitative palette, readable on dark and light backgrounds).
_PALETTE = (
    "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
    "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#800000", "#aaffc3",
    "#808000", "#ffd8b1", "#000075", "#00bfff", "#ff69b4", "#a0a0a0",
)  # fmt: skip


def species_colour(label_index: int) -> QColor:
    return QColor(_PALETTE[label_index % len(_PALETTE)])
