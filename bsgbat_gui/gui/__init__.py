"""PySide6 + pyqtgraph views bound to core objects; ``worker.py`` is the only module with threads."""
