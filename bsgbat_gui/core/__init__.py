"""Qt-free core: audio, spectrogram, segments, models, ensemble, analysis, export.

Nothing in this package may import PySide6 or pyqtgraph (``tests/core/test_layering.py``).
"""
