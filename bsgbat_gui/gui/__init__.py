"""PySide6 + pyqtgraph views bound to core objects; only ``worker.py`` owns threads."""

import os

# superqt reaches Qt through qtpy, which would take PyQt5 when that is installed too: the window
# is PySide6, and two bindings in one process do not mix.
os.environ["QT_API"] = "pyside6"
