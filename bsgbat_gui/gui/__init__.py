"""PySide6 + pyqtgraph views bound to core objects; only ``worker.py`` owns threads."""
