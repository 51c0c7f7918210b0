"""Guard against a Qt binding that corrupts Python's bool refcounts (PySide6 6.12.0 did).

Losing references to True is silent until the interpreter aborts at exit with
"bool_dealloc: deallocating True or False", so it is measured here directly.
"""

from __future__ import annotations

import gc
import sys

import pyqtgraph as pg


def test_colour_map_changes_keep_bool_refcounts(qtbot) -> None:
    histogram = pg.HistogramLUTItem()
    colour_maps = [pg.colormap.get("viridis"), pg.colormap.get("magma")]
    gc.collect()
    before = sys.getrefcount(True)
    for i in range(200):
        histogram.gradient.setColorMap(colour_maps[i % 2])
        histogram.gradient.setColorMode("rgb")
    gc.collect()
    assert sys.getrefcount(True) >= before, "the Qt binding over-releases True (see pyproject.toml)"
